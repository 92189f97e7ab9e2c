import { InteractionRouterServiceDefinition } from '@mailroute/contracts';
import { adminScopes } from './admin.handler';

describe('adminScopes', () => {
  it('gives every InteractionRouterService RPC a scope: routing.read for reads, routing.write for changes', () => {
    const names = Object.values(InteractionRouterServiceDefinition.methods).map((method) => method.name);
    expect(Object.keys(adminScopes).sort()).toEqual([...names].sort());
    expect(adminScopes['GetQueue']).toBe('routing.read');
    expect(adminScopes['ListInteractionHistory']).toBe('routing.read');
    expect(adminScopes['SearchInteractions']).toBe('routing.read');
    expect(adminScopes['TestRoutingRules']).toBe('routing.read');
    expect(adminScopes['CreateQueue']).toBe('routing.write');
    expect(adminScopes['ReorderRoutingRules']).toBe('routing.write');
    expect(adminScopes['SetAgentPresence']).toBe('routing.write');
    expect(adminScopes['TransferInteraction']).toBe('routing.write');
  });
});
