/** The replica no longer owns the mailbox (lease lost, liveness lapsed, or cursor taken). */
export class LostMailboxError extends Error {
  constructor(key: string) {
    super(`mailbox ${key} is no longer owned by this replica`);
    this.name = 'LostMailboxError';
  }
}

/**
 * The replica is stopping: a turn in flight is cut short at its next Graph request or page (nothing after
 * the last published page is stored), and the mailbox's next owner carries on from the stored cursor.
 */
export class ReplicaStoppingError extends LostMailboxError {
  constructor() {
    super('*');
    this.message = 'the replica is stopping';
    this.name = 'ReplicaStoppingError';
  }
}
