import type { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  AlertEvent,
  InboundEmail,
  InteractionStateChanged,
  MailboxWakeUp,
  OutboundRequest,
  OutboundResult,
} from '@mailroute/contracts';
import { ValidationError } from '@mailroute/platform';
import type { DeliveredMessage, OutgoingMessage } from './ports/event-bus.port';

/** The protobuf codec ts-proto generates for a message. */
interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array): T;
}

interface EventDefinition<T> {
  topic: string;
  /** Partitions the topic is created with (`ensureTopics`); keys spread over them. */
  partitions: number;
  /** Full protobuf name, sent in the `mailroute-event-type` header. */
  type: string;
  codec: Codec<T>;
}

/** Header naming the protobuf message a record holds (proto/mailroute/v1/events.proto). */
export const eventTypeHeader = 'mailroute-event-type';

/**
 * Partitions of every mailroute topic: 8 lets up to 8 replicas of a consumer group share a topic
 * (a partition has one consumer), well above the replica counts of deploy/, while each partition keeps
 * one mailbox's or interaction's events in order. Kafka can add partitions later, never remove them.
 */
const topicPartitions = 8;

/**
 * The Kafka topics of mailroute and the message each carries, as events.proto documents them. Keys:
 * `<tenant_id>/<mailbox_id>` for mail topics, `<tenant_id>/<interaction_id>` for interaction state and alerts.
 */
export const events = {
  inboundEmail: {
    topic: 'mailroute.inbound-email.v1',
    partitions: topicPartitions,
    type: 'mailroute.v1.InboundEmail',
    codec: InboundEmail,
  },
  interactionStateChanged: {
    topic: 'mailroute.interaction-state-changed.v1',
    partitions: topicPartitions,
    type: 'mailroute.v1.InteractionStateChanged',
    codec: InteractionStateChanged,
  },
  outboundRequest: {
    topic: 'mailroute.outbound-request.v1',
    partitions: topicPartitions,
    type: 'mailroute.v1.OutboundRequest',
    codec: OutboundRequest,
  },
  outboundResult: {
    topic: 'mailroute.outbound-result.v1',
    partitions: topicPartitions,
    type: 'mailroute.v1.OutboundResult',
    codec: OutboundResult,
  },
  alert: {
    topic: 'mailroute.alert.v1',
    partitions: topicPartitions,
    type: 'mailroute.v1.AlertEvent',
    codec: AlertEvent,
  },
  mailboxWakeUp: {
    topic: 'mailroute.mailbox-wake-up.v1',
    partitions: topicPartitions,
    type: 'mailroute.v1.MailboxWakeUp',
    codec: MailboxWakeUp,
  },
} as const;

/** The topics of `kinds` as `ensureTopics` takes them: name and partition count from the registry. */
export function eventTopics(...kinds: EventKind[]): { topic: string; partitions: number }[] {
  return kinds.map((kind) => ({ topic: events[kind].topic, partitions: events[kind].partitions }));
}

type Events = typeof events;
export type EventKind = keyof Events;
export type EventMessage<K extends EventKind> = Events[K]['codec'] extends Codec<infer T> ? T : never;

/** `<tenant>/<entity>`: the partition key that keeps one mailbox's (or interaction's) events in order. */
export function eventKey(tenantId: string, entityId: string): string {
  return `${tenantId}/${entityId}`;
}

/** Encodes an event as a bus message with its type header. */
export function toEventMessage<K extends EventKind>(kind: K, key: string, message: EventMessage<K>): OutgoingMessage {
  const definition = events[kind] as unknown as EventDefinition<EventMessage<K>>;
  return {
    key,
    value: definition.codec.encode(message).finish(),
    headers: { [eventTypeHeader]: definition.type, 'content-type': 'application/x-protobuf' },
  };
}

/**
 * Decodes a delivered record as event `kind`. A record of another type or one that is not valid
 * protobuf is a ValidationError — not retryable, so the bus dead-letters it instead of blocking
 * the partition.
 */
export function fromEventMessage<K extends EventKind>(kind: K, message: DeliveredMessage): EventMessage<K> {
  const definition = events[kind] as unknown as EventDefinition<EventMessage<K>>;
  const type = message.headers[eventTypeHeader];
  if (type !== undefined && type !== definition.type) {
    throw new ValidationError(eventTypeHeader, `expected ${definition.type} on ${message.topic}, got ${type}`);
  }
  try {
    return definition.codec.decode(message.value);
  } catch (error) {
    throw new ValidationError('value', `not a valid ${definition.type}: ${(error as Error).message}`, { cause: error });
  }
}
