import { describe, expect, it } from 'vitest';
import { formatRefreshToken, hashSecret, newId, newSecret, parseRefreshToken, secretMatches } from '../../lambdas/tokens/refresh-token-format.js';

const sample = () => ({ familyId: newId(), tokenId: newId(), secret: newSecret(), userId: 'auth0|5f7c8ec7c33c6c004bbafe82' });

describe('refresh token format r1.<family>.<token>.<secret>.<user>', () => {
  it('round-trips family, token, secret and user id', () => {
    const t = sample();
    const text = formatRefreshToken(t);
    expect(text.startsWith('r1.')).toBe(true);
    expect(parseRefreshToken(text)).toEqual(t);
  });

  it('keeps user ids with any characters (social ids, unicode)', () => {
    for (const userId of ['google-oauth2|1234567890', 'auth0|ünïcødé', 'samlp|a.b@c|d']) {
      const t = { ...sample(), userId };
      expect(parseRefreshToken(formatRefreshToken(t))?.userId).toBe(userId);
    }
  });

  it('is URL-safe: no characters a form body or header would have to escape', () => {
    expect(formatRefreshToken(sample())).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('every token has a fresh 256-bit secret and distinct ids', () => {
    const a = sample();
    const b = sample();
    expect(a.secret).not.toBe(b.secret);
    expect(a.tokenId).not.toBe(b.tokenId);
    expect(Buffer.from(a.secret, 'base64url')).toHaveLength(32);
  });

  it.each([
    ['empty', ''],
    ['another scheme', 'v1.x.y.z.w'],
    ['an upstream Auth0 token', 'v1.MRrrWVmUqNyoPw5W5RpZqmNGXhl3mgH_h3xMqNhTB0sFZZRm-sQW0cX-l3YsN3kpFjSLqfAObSkMkpn08VUqEZn8'],
    ['four parts', 'r1.aaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbb.cccc'],
    ['six parts', `r1.${'a'.repeat(22)}.${'b'.repeat(22)}.${'c'.repeat(43)}.dXNlcg.extra`],
    ['short ids', `r1.abc.def.${'c'.repeat(43)}.dXNlcg`],
    ['short secret', `r1.${'a'.repeat(22)}.${'b'.repeat(22)}.${'c'.repeat(42)}.dXNlcg`],
    ['non-base64url characters', `r1.${'a'.repeat(22)}.${'b'.repeat(21)}+.${'c'.repeat(43)}.dXNlcg`],
    ['a non-canonical user part', `r1.${'a'.repeat(22)}.${'b'.repeat(22)}.${'c'.repeat(43)}.dXNlcj`],
    ['an overlong token', `r1.${'a'.repeat(22)}.${'b'.repeat(22)}.${'c'.repeat(43)}.${'d'.repeat(600)}`],
  ])('rejects %s', (_name, text) => {
    expect(parseRefreshToken(text)).toBeUndefined();
  });

  it('stores only a hash: secretMatches accepts the secret and nothing else', () => {
    const secret = newSecret();
    const stored = hashSecret(secret);
    expect(stored).not.toContain(secret);
    expect(secretMatches(secret, stored)).toBe(true);
    expect(secretMatches(newSecret(), stored)).toBe(false);
    expect(secretMatches(secret, stored.slice(1))).toBe(false);
    expect(secretMatches(secret, '')).toBe(false);
  });
});
