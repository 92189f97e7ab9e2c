import { InboundEmail } from '@mailroute/contracts';
import { eventKey, events, eventTypeHeader, fromEventMessage, toEventMessage } from './events';
import type { DeliveredMessage } from './ports/event-bus.port';

const delivered = (over: Partial<DeliveredMessage>): DeliveredMessage => ({
  topic: events.inboundEmail.topic,
  partition: 0,
  offset: '0',
  key: 'k',
  value: Buffer.alloc(0),
  headers: {},
  attempt: 1,
  ...over,
});

describe('event codecs', () => {
  it('round-trips an InboundEmail with its type header and key', () => {
    const event = InboundEmail.fromPartial({ eventId: 'e1', tenantId: 't1', occurredAt: new Date('2026-11-22T10:00:00Z') });
    const message = toEventMessage('inboundEmail', eventKey('t1', 'mbx-1'), event);
    expect(message.key).toBe('t1/mbx-1');
    expect(message.headers?.[eventTypeHeader]).toBe('mailroute.v1.InboundEmail');
    const decoded = fromEventMessage(
      'inboundEmail',
      delivered({ value: Buffer.from(message.value), headers: message.headers ?? {} }),
    );
    expect(decoded).toEqual(event);
  });

  it('refuses a record of another type, naming the header, so it is dead-lettered rather than retried', () => {
    expect(() =>
      fromEventMessage('inboundEmail', delivered({ headers: { [eventTypeHeader]: 'mailroute.v1.OutboundResult' } })),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: eventTypeHeader, retryable: false }));
  });

  it('refuses bytes that are not protobuf', () => {
    expect(() => fromEventMessage('inboundEmail', delivered({ value: Buffer.from([0xff, 0xff, 0xff, 0xff]) }))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'value' }),
    );
  });
});
