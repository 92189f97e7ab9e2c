export * from './ports/event-bus.port';
export * from './errors';
export { withTraceHeaders } from './delivery';
export { KafkaEventBus, type KafkaEventBusOptions } from './kafka/kafka-event-bus';
export {
  createClientCredentialsTokenProvider,
  kafkaSecurityFromConfig,
  toKafkaConfigError,
  type KafkaSecurity,
  type KafkaSecurityConfig,
} from './kafka/kafka-security';
export {
  InProcessBroker,
  InProcessEventBus,
  partitionFor,
  type InProcessBrokerOptions,
  type InProcessEventBusOptions,
} from './in-process/in-process-event-bus';
export {
  SqliteBrokerJournal,
  type BrokerJournal,
  type JournalMessage,
  type JournalSnapshot,
  type SqliteBrokerJournalOptions,
} from './in-process/broker-journal';
export * from './events';
