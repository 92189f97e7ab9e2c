export {
  deadLetterHeaders,
  deadLetterTopic,
  type DeliveredMessage,
  type EventBus,
  type MessageHandler,
  type OutgoingMessage,
  type PartitionAssignment,
  type SubscribeOptions,
  type Subscription,
} from './ports/event-bus.port';
export { withTraceHeaders } from './delivery';
export { KafkaEventBus, type KafkaEventBusOptions } from './kafka/kafka-event-bus';
export { kafkaSecurityFromConfig, type KafkaSecurity, type KafkaSecurityConfig } from './kafka/kafka-security';
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
export { eventKey, type EventKind, type EventMessage, events, eventTopics, fromEventMessage, toEventMessage } from './events';
export { createAlertEventPublisher, type AlertPayload, type AlertToPublish } from './alert-events';
