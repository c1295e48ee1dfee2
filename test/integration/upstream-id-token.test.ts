import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUpstreamIdTokenVerifier } from '../../lambdas/migration/upstream-id-token.js';
import { PASSWORD_REALM_GRANT, startFakeUpstream, type FakeUpstream, type FakeUser } from '../support/fake-upstream.js';

const CLIENT_ID = 'idt-client';
let upstream: FakeUpstream;
let otherTenant: FakeUpstream;
let alice: FakeUser;

async function idTokenFrom(tenant: FakeUpstream): Promise<string> {
  const res = await fetch(tenant.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: PASSWORD_REALM_GRANT, realm: 'Username-Password-Authentication', username: 'alice@example.com', password: 'pw-123456', client_id: CLIENT_ID, client_secret: 'sec', scope: 'openid email' }),
  });
  const body = await res.json();
  if (!body.id_token) throw new Error(`no id_token: ${JSON.stringify(body)}`);
  return body.id_token;
}

beforeAll(async () => {
  [upstream, otherTenant] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  for (const tenant of [upstream, otherTenant]) {
    tenant.clients.addClient({ client_id: CLIENT_ID, client_secret: 'sec', grant_types: [PASSWORD_REALM_GRANT] });
  }
  alice = upstream.addUser({ email: 'alice@example.com', password: 'pw-123456', email_verified: true });
  otherTenant.addUser({ email: 'alice@example.com', password: 'pw-123456' });
});

afterAll(async () => {
  await Promise.all([upstream.close(), otherTenant.close()]);
});

beforeEach(() => upstream.reset());

function setup() {
  let t = Date.now();
  const verifier = createUpstreamIdTokenVerifier({ fetch: globalThis.fetch, now: () => t, allowLoopbackHttp: true });
  return { verifier, advance: (ms: number) => { t += ms; } };
}

const expected = () => ({ issuer: upstream.issuer, audience: CLIENT_ID, jwksUri: upstream.jwksUri });

describe('upstream id_token verification', () => {
  it('returns the claims of a token signed by the tenant for this client', async () => {
    const result = await setup().verifier.verify(await idTokenFrom(upstream), expected());
    expect(result).toEqual({ ok: true, claims: expect.objectContaining({ sub: alice.sub, email: 'alice@example.com', iss: upstream.issuer, aud: CLIENT_ID }) });
  });

  it('refuses a token for another audience or from an issuer spelled without the trailing slash', async () => {
    const { verifier } = setup();
    const token = await idTokenFrom(upstream);
    expect(await verifier.verify(token, { ...expected(), audience: 'someone-else' })).toMatchObject({ ok: false, reason: 'invalid_token', detail: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    expect(await verifier.verify(token, { ...expected(), issuer: upstream.url })).toMatchObject({ ok: false, reason: 'invalid_token' });
  });

  it('refuses an expired token', async () => {
    const { verifier, advance } = setup();
    const token = await idTokenFrom(upstream);
    advance(11 * 3600_000);
    expect(await verifier.verify(token, expected())).toMatchObject({ ok: false, reason: 'invalid_token', detail: 'ERR_JWT_EXPIRED' });
  });

  it('refuses a token signed by another tenant, even after refetching the JWKS for the unknown kid', async () => {
    const { verifier, advance } = setup();
    await verifier.verify(await idTokenFrom(upstream), expected());
    advance(2 * 60_000);
    const forged = await idTokenFrom(otherTenant);
    expect(await verifier.verify(forged, expected())).toMatchObject({ ok: false, reason: 'invalid_token', detail: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(upstream.requestsTo('jwks')).toHaveLength(2);
  });

  it('caches the JWKS per jwks_uri for 10 minutes', async () => {
    const { verifier, advance } = setup();
    const token = await idTokenFrom(upstream);
    await verifier.verify(token, expected());
    advance(9 * 60_000);
    expect((await verifier.verify(token, expected())).ok).toBe(true);
    expect(upstream.requestsTo('jwks')).toHaveLength(1);
    advance(2 * 60_000);
    expect((await verifier.verify(token, expected())).ok).toBe(true);
    expect(upstream.requestsTo('jwks')).toHaveLength(2);
  });

  it('reports jwks_unavailable when the tenant JWKS cannot be read and nothing is cached', async () => {
    upstream.failNext('jwks', { status: 503 });
    expect(await setup().verifier.verify(await idTokenFrom(upstream), expected())).toEqual({ ok: false, reason: 'jwks_unavailable' });
  });

  it('refuses a plain-http JWKS unless running locally on loopback', async () => {
    const verifier = createUpstreamIdTokenVerifier({ fetch: globalThis.fetch });
    expect(await verifier.verify(await idTokenFrom(upstream), expected())).toEqual({ ok: false, reason: 'insecure_endpoint' });
    expect(upstream.requestsTo('jwks')).toHaveLength(0);
  });
});
