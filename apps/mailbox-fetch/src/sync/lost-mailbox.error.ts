/** The replica no longer owns the mailbox (lease lost, liveness lapsed, or cursor taken). */
export class LostMailboxError extends Error {
  constructor(key: string) {
    super(`mailbox ${key} is no longer owned by this replica`);
    this.name = 'LostMailboxError';
  }
}
