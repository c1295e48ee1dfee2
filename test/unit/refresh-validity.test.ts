import { describe, expect, it } from 'vitest';
import { refreshValidity, type RefreshRefusal } from '../../lambdas/oauth/refresh-validity.js';
import type { UserRecord } from '../../lambdas/store/records.js';
import type { RefreshFamilyItem, RefreshTokenItem } from '../../lambdas/store/refresh-token-repository.js';
import { hashSecret } from '../../lambdas/tokens/refresh-token-format.js';

/** The refresh grant's validity rules, one row each: what was read, and the verdict. */
const NOW = 1_900_000_000;
const parsed = { familyId: 'fam1', tokenId: 'tok1', secret: 'the-secret', userId: 'auth0|u1' };
const token: RefreshTokenItem = {
  token_id: 'tok1', family_id: 'fam1', tenant: 't1', client_id: 'c1', user_id: 'auth0|u1', hash: hashSecret('the-secret'),
  scope: 'openid offline_access', status: 'active', created_at: NOW - 100, idle_exp: NOW + 100, ttl: NOW + 100,
};
const family: RefreshFamilyItem = { family_id: 'fam1', tenant: 't1', client_id: 'c1', user_id: 'auth0|u1', status: 'active', absolute_exp: NOW + 1000, created_at: NOW - 100, ttl: NOW + 1000 };
const user = { user_id: 'auth0|u1', tenant: 't1' } as UserRecord;

const rows: Array<[string, Partial<Parameters<typeof refreshValidity>[0]>, RefreshRefusal | 'ok', string | undefined]> = [
  ['a genuine, live token of this client', {}, 'ok', undefined],
  ['no token record', { token: undefined }, 'unknown_refresh_token', undefined],
  ['a wrong secret', { parsed: { ...parsed, secret: 'guess' } }, 'unknown_refresh_token', undefined],
  ['a token of another tenant', { tenant: 't2' }, 'unknown_refresh_token', undefined],
  ['a token naming another family', { parsed: { ...parsed, familyId: 'fam2' } }, 'unknown_refresh_token', 'auth0|u1'],
  ['a token naming another user', { parsed: { ...parsed, userId: 'auth0|u2' } }, 'unknown_refresh_token', 'auth0|u1'],
  ['no family record', { family: undefined }, 'unknown_refresh_token', 'auth0|u1'],
  ['another client', { clientId: 'c2' }, 'client_mismatch', 'auth0|u1'],
  ['a revoked family', { family: { ...family, status: 'revoked' } }, 'family_revoked', 'auth0|u1'],
  ['past the absolute lifetime', { family: { ...family, absolute_exp: NOW } }, 'expired', 'auth0|u1'],
  ['past the idle lifetime', { token: { ...token, idle_exp: NOW } }, 'idle_expired', 'auth0|u1'],
  ['a family past its TTL (not yet deleted)', { family: { ...family, absolute_exp: undefined, ttl: NOW } }, 'expired', 'auth0|u1'],
  ['a token past its TTL (not yet deleted)', { token: { ...token, idle_exp: undefined, ttl: NOW - 1 } }, 'expired', 'auth0|u1'],
  ['non-expiring token and family', { token: { ...token, idle_exp: undefined, ttl: undefined }, family: { ...family, absolute_exp: undefined, ttl: undefined } }, 'ok', undefined],
  ['a deleted user', { user: undefined }, 'user_not_found', 'auth0|u1'],
  ['a blocked user', { user: { ...user, blocked: true } }, 'user_blocked', 'auth0|u1'],
  ['revoked and expired: the first rule names it', { family: { ...family, status: 'revoked', absolute_exp: NOW - 1 } }, 'family_revoked', 'auth0|u1'],
];

describe('refresh validity', () => {
  it.each(rows)('%s', (_name, change, expected, userId) => {
    const verdict = refreshValidity({ parsed, token, family, user, tenant: 't1', clientId: 'c1', nowSeconds: NOW, ...change });
    if (expected === 'ok') expect(verdict.ok).toBe(true);
    else expect(verdict).toEqual({ ok: false, reason: expected, ...(userId ? { userId } : {}) });
  });
});
