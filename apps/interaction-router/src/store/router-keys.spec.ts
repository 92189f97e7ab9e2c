import {
  agentSendKey,
  changeOutboxKey,
  claimKey,
  configKey,
  configKindPrefix,
  inboundMessageKey,
  interactionKey,
  keyAfterTenant,
  outboundMessageKey,
  parseChangeOutboxKey,
  parseInteractionKey,
  slotAgentOf,
  slotKey,
  slotNumberOf,
  slotPrefix,
  tenantOfKey,
  tenantPrefix,
  threadPrefix,
} from './router-keys';

describe('router store keys', () => {
  it('start every row with its tenant, so a tenant is one _id range', () => {
    const keys = [
      interactionKey('t1', 'i1'),
      slotKey('t1', 'alice', 0),
      changeOutboxKey('t1', 'i1', 3, 'w'),
      agentSendKey('t1', 'alice', 'k'),
      inboundMessageKey('t1', 'i1', 5, 'g'),
      configKey('t1', 'queue', 'q'),
    ];
    for (const key of keys) {
      expect(key.startsWith(tenantPrefix('t1'))).toBe(true);
      expect(tenantOfKey(key)).toBe('t1');
    }
  });

  it('parse back what they build', () => {
    expect(parseInteractionKey(interactionKey('t1', 'i-9'))).toEqual({ tenantId: 't1', interactionId: 'i-9' });
    expect(parseChangeOutboxKey(changeOutboxKey('t1', 'i-9', 42, 'writer'))).toEqual({
      tenantId: 't1',
      interactionId: 'i-9',
      version: 42,
    });
    expect(slotNumberOf(slotKey('t1', 'alice', 7))).toBe(7);
    expect(slotAgentOf('t1', slotKey('t1', 'alice', 7))).toBe('alice');
    expect(slotKey('t1', 'alice', 7).startsWith(slotPrefix('t1', 'alice'))).toBe(true);
    expect(keyAfterTenant('t1', interactionKey('t1', 'i-9'))).toBe('i-9');
    expect(configKey('t1', 'rule', 'r1').startsWith(configKindPrefix('t1', 'rule'))).toBe(true);
  });

  it('pad versions and times so that _id order is time order', () => {
    expect(changeOutboxKey('t', 'i', 9, 'w') < changeOutboxKey('t', 'i', 10, 'w')).toBe(true);
    expect(inboundMessageKey('t', 'i', 999, 'z') < outboundMessageKey('t', 'i', 1000, 'a')).toBe(true);
    expect(slotKey('t', 'a', 9) < slotKey('t', 'a', 10)).toBe(true);
    expect(inboundMessageKey('t', 'i', 1, 'g').startsWith(threadPrefix('t', 'i'))).toBe(true);
  });

  it('lower-case and URI-encode claimed values', () => {
    expect(claimKey('t1', 'agentUpn', 'Alice/Admin@Contoso.test')).toBe('t1/agentUpn/alice%2Fadmin%40contoso.test');
  });
});
