import { createSandboxState } from '../model/sandbox-state';
import { testApplicationAccessPolicy } from './access-policy';

describe('testApplicationAccessPolicy', () => {
  function setUp() {
    const state = createSandboxState({ clock: () => 0 });
    const tenant = state.createTenant({ domain: 'contoso.example' });
    const app = state.createApp(tenant.id, { applicationPermissions: ['Mail.Read'] });
    const routed = state.createMailbox(tenant.id, { userPrincipalName: 'support@contoso.example' });
    const ceo = state.createMailbox(tenant.id, { userPrincipalName: 'ceo@contoso.example' });
    return { state, tenant, app, routed, ceo };
  }

  it('grants every mailbox when the app has no policy', () => {
    const { tenant, app, ceo } = setUp();
    expect(testApplicationAccessPolicy(tenant, app.clientId, ceo.id)).toBe('Granted');
  });

  it('RestrictAccess grants only members of the scope group', () => {
    const { state, tenant, app, routed, ceo } = setUp();
    state.createAccessPolicy(tenant.id, {
      appId: app.clientId,
      accessRight: 'RestrictAccess',
      policyScopeGroupId: 'routed@contoso.example',
      members: ['support@contoso.example'],
    });
    expect(testApplicationAccessPolicy(tenant, app.clientId, routed.id)).toBe('Granted');
    expect(testApplicationAccessPolicy(tenant, app.clientId, ceo.id)).toBe('Denied');
    expect(testApplicationAccessPolicy(tenant, '00000000-0000-0000-0000-000000000001', ceo.id)).toBe('Granted');
  });

  it('DenyAccess denies members and grants everyone else', () => {
    const { state, tenant, app, routed, ceo } = setUp();
    state.createAccessPolicy(tenant.id, {
      appId: app.clientId,
      accessRight: 'DenyAccess',
      policyScopeGroupId: 'vip@contoso.example',
      members: ['ceo@contoso.example'],
    });
    expect(testApplicationAccessPolicy(tenant, app.clientId, ceo.id)).toBe('Denied');
    expect(testApplicationAccessPolicy(tenant, app.clientId, routed.id)).toBe('Granted');
  });
});
