export * from './wait-for';
export * from './test-infra';
export * from './event-bus.contract';
export * from './tenant-credentials.contract';
export * from './service-process';
export * from './document-table.contract';
export * from './lease.contract';
export * from './app-credentials.contract';
