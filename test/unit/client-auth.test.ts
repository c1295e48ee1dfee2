import { describe, expect, it } from 'vitest';
import { authenticateClient, ensureGrantAllowed, hashClientSecret, parseBasicAuthorization } from '../../lambdas/oauth/client-auth.js';
import { OAuthError } from '../../lambdas/oauth/errors.js';
import { newClientRecord } from '../../lambdas/store/defaults.js';
import type { TenantConfig } from '../../lambdas/store/tenant-config-repository.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const now = '2030-01-01T00:00:00.000Z';
const secret = 'se:cr%et+with/odd=chars';
const confidential = newClientRecord({ name: 'web', app_type: 'regular_web', client_id: 'web-client', client_secret_hash: hashClientSecret(secret), grant_types: ['password'], now });
const pub = newClientRecord({ name: 'spa', app_type: 'spa', client_id: 'spa-client', grant_types: ['refresh_token'], now });
const config = { clients: new Map([[confidential.client_id, confidential], [pub.client_id, pub]]) } as unknown as TenantConfig;

function oauthErrorOf(fn: () => unknown): { status: number; error: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof OAuthError) return { status: err.status, error: err.error };
    throw err;
  }
  throw new Error('no error thrown');
}

describe('parseBasicAuthorization', () => {
  it('form-url-decodes both halves (RFC 6749 §2.3.1, as openid-client encodes them)', () => {
    const header = basic(encodeURIComponent('id with space'), encodeURIComponent(secret));
    expect(parseBasicAuthorization(header)).toEqual({ id: 'id with space', secret });
    expect(parseBasicAuthorization(basic('a+b', 'c+d'))).toEqual({ id: 'a b', secret: 'c d' });
  });

  it('keeps a colon inside the secret', () => {
    expect(parseBasicAuthorization(basic('id', 'a:b:c'))).toEqual({ id: 'id', secret: 'a:b:c' });
  });

  it('is case-insensitive about the scheme', () => {
    expect(parseBasicAuthorization(`basic ${Buffer.from('id:s').toString('base64')}`)).toEqual({ id: 'id', secret: 's' });
  });

  it('returns undefined without a header', () => {
    expect(parseBasicAuthorization(undefined)).toBeUndefined();
  });

  it.each([
    ['not base64', 'Basic !!!'],
    ['no credentials', 'Basic '],
    ['no colon', `Basic ${Buffer.from('onlyid').toString('base64')}`],
    ['empty id', basic('', 'secret')],
    ['bad percent-encoding', basic('%zz', 'x')],
    ['another scheme', 'Bearer abc'],
  ])('rejects %s as invalid_request', (_name, header) => {
    expect(oauthErrorOf(() => parseBasicAuthorization(header))).toEqual({ status: 400, error: 'invalid_request' });
  });
});

describe('authenticateClient', () => {
  it('accepts client_secret_post and client_secret_basic with the right secret', () => {
    expect(authenticateClient(config, { clientId: 'web-client', clientSecret: secret }).client_id).toBe('web-client');
    const header = basic('web-client', encodeURIComponent(secret));
    expect(authenticateClient(config, { authorization: header }).client_id).toBe('web-client');
  });

  it('refuses a wrong or missing secret of a confidential client with 401', () => {
    expect(oauthErrorOf(() => authenticateClient(config, { clientId: 'web-client', clientSecret: 'wrong' }))).toEqual({ status: 401, error: 'access_denied' });
    expect(oauthErrorOf(() => authenticateClient(config, { clientId: 'web-client' }))).toEqual({ status: 401, error: 'access_denied' });
  });

  it('refuses an unknown client with 401 and a missing client_id with 400', () => {
    expect(oauthErrorOf(() => authenticateClient(config, { clientId: 'nope', clientSecret: 'x' }))).toEqual({ status: 401, error: 'access_denied' });
    expect(oauthErrorOf(() => authenticateClient(config, {}))).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('lets a public client in with its client_id alone, but not where a secret is required', () => {
    expect(authenticateClient(config, { clientId: 'spa-client' }).client_id).toBe('spa-client');
    expect(oauthErrorOf(() => authenticateClient(config, { clientId: 'spa-client', secretRequired: true }))).toEqual({ status: 401, error: 'access_denied' });
  });

  it('refuses two authentication methods at once and a body client_id that differs from Basic', () => {
    const header = basic('web-client', encodeURIComponent(secret));
    expect(oauthErrorOf(() => authenticateClient(config, { authorization: header, clientSecret: secret }))).toEqual({ status: 400, error: 'invalid_request' });
    expect(oauthErrorOf(() => authenticateClient(config, { authorization: header, clientId: 'spa-client' }))).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('ignores a non-Basic Authorization header (e.g. a Bearer token) and uses the body', () => {
    expect(authenticateClient(config, { authorization: 'Bearer x', clientId: 'web-client', clientSecret: secret }).client_id).toBe('web-client');
  });
});

describe('ensureGrantAllowed', () => {
  it('passes a grant the client has and refuses others with 403 unauthorized_client', () => {
    expect(() => ensureGrantAllowed(confidential, 'password')).not.toThrow();
    expect(oauthErrorOf(() => ensureGrantAllowed(confidential, 'client_credentials'))).toEqual({ status: 403, error: 'unauthorized_client' });
  });
});
