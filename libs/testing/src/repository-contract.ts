export interface RepositoryContractOptions<R> {
  /** A repository over fresh, empty storage; `close` releases it. */
  create: () => Promise<{ repository: R; close: () => Promise<void> }>;
}
