import { randomInt } from 'node:crypto';
import { newOpaque } from '../shared/ids';
import type { AuthCodeGrant, DeviceCodeGrant, RefreshTokenGrant } from '../model/model.types';

const userCodeAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Authorization codes, device codes and refresh tokens of the delegated flows, across tenants. */
export function createGrantStore() {
  const authCodes = new Map<string, AuthCodeGrant>();
  const deviceCodes = new Map<string, DeviceCodeGrant>();
  const userCodes = new Map<string, string>();
  const refreshTokens = new Map<string, RefreshTokenGrant>();

  return {
    addAuthCode(grant: Omit<AuthCodeGrant, 'code' | 'redeemed'>): AuthCodeGrant {
      const full: AuthCodeGrant = { ...grant, code: `1.A${newOpaque(48)}`, redeemed: false };
      authCodes.set(full.code, full);
      return full;
    },
    authCode: (code: string) => authCodes.get(code),
    addDeviceCode(grant: Omit<DeviceCodeGrant, 'deviceCode' | 'userCode'>): DeviceCodeGrant {
      let userCode = '';
      do {
        userCode = Array.from({ length: 9 }, () => userCodeAlphabet[randomInt(userCodeAlphabet.length)]).join('');
      } while (userCodes.has(userCode));
      const full: DeviceCodeGrant = { ...grant, deviceCode: `DAQAB${newOpaque(48)}`, userCode };
      deviceCodes.set(full.deviceCode, full);
      userCodes.set(userCode, full.deviceCode);
      return full;
    },
    deviceCode: (deviceCode: string) => deviceCodes.get(deviceCode),
    deviceCodeByUserCode: (userCode: string) => deviceCodes.get(userCodes.get(userCode.trim().toUpperCase()) ?? ''),
    addRefreshToken(grant: Omit<RefreshTokenGrant, 'token' | 'revoked'>): RefreshTokenGrant {
      const full: RefreshTokenGrant = { ...grant, token: `1.AR${newOpaque(96)}`, revoked: false };
      refreshTokens.set(full.token, full);
      return full;
    },
    refreshToken: (token: string) => refreshTokens.get(token),
    /** Revokes every refresh token of a user (Revoke-MgUserSignInSession); returns how many. */
    revokeUser(tenantId: string, userId: string): number {
      let count = 0;
      for (const grant of refreshTokens.values()) {
        if (grant.tenantId === tenantId && grant.userId === userId && !grant.revoked) {
          grant.revoked = true;
          count += 1;
        }
      }
      return count;
    },
    reset(): void {
      authCodes.clear();
      deviceCodes.clear();
      userCodes.clear();
      refreshTokens.clear();
    },
  };
}

export type GrantStore = ReturnType<typeof createGrantStore>;
