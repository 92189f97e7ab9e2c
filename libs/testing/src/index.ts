export * from './wait-for';
export * from './test-infra';
export * from './event-bus.contract';
export * from './tenant-credentials.contract';
export * from './service-process';
