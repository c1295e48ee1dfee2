import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createBreakerRegistry, type BreakerRegistry } from '../../lambdas/migration/circuit-breaker.js';
import { createDeadline } from '../../lambdas/migration/deadline.js';
import { createUpstreamClient, PASSWORD_REALM_GRANT } from '../../lambdas/migration/upstream-client.js';
import { startFakeUpstream, type FakeUpstream, type FakeUser } from '../support/fake-upstream.js';

const CLIENT_ID = 'upstream-migration-client';
const CLIENT_SECRET = 'upstream-client-secret-DO-NOT-LOG';
const PASSWORD = 'correct horse battery staple';
const SOURCE = 'con_upstream1';

let upstream: FakeUpstream;
let alice: FakeUser;
let logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.clients.addClient({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_types: [PASSWORD_REALM_GRANT, 'refresh_token'] });
  upstream.clients.addClient({ client_id: 'no-ropg-client', client_secret: 's3', grant_types: ['refresh_token'] });
  alice = upstream.addUser({ email: 'alice@example.com', password: PASSWORD, name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell', email_verified: true });
  upstream.addUser({ email: 'mfa@example.com', password: PASSWORD, mfa: true });
});

afterAll(async () => {
  await upstream.close();
});

beforeEach(() => {
  upstream.reset();
});

function clientWith(opts: { breakers?: BreakerRegistry; perCallTimeoutMs?: number; allowLoopbackHttp?: boolean } = {}) {
  return createUpstreamClient({
    fetch: globalThis.fetch,
    breakers: opts.breakers ?? createBreakerRegistry(),
    perCallTimeoutMs: opts.perCallTimeoutMs ?? 2500,
    allowLoopbackHttp: opts.allowLoopbackHttp ?? true,
    log: (line) => logLines.push(line),
  });
}

function passwordLogin(client: ReturnType<typeof clientWith>, overrides: Partial<{ username: string; password: string; clientId: string; clientSecret: string; realm: string; scope: string; totalMs: number; tokenEndpoint: string }> = {}) {
  return client.passwordRealm({
    breakerKey: SOURCE,
    tokenEndpoint: overrides.tokenEndpoint ?? upstream.tokenEndpoint,
    clientId: overrides.clientId ?? CLIENT_ID,
    clientSecret: overrides.clientSecret ?? CLIENT_SECRET,
    realm: overrides.realm ?? 'Username-Password-Authentication',
    username: overrides.username ?? 'alice@example.com',
    password: overrides.password ?? PASSWORD,
    scope: overrides.scope ?? 'openid profile email offline_access',
    deadline: createDeadline(overrides.totalMs ?? 10_000),
  });
}

function manualClock() {
  let t = 5_000_000;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe('upstream client against the fake Auth0: successful calls', () => {
  it('logs in with password-realm as a form post and returns Auth0 tokens', async () => {
    const result = await passwordLogin(clientWith());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({ token_type: 'Bearer', expires_in: 86400, scope: 'openid profile email offline_access' });
    expect(result.value.access_token).toEqual(expect.any(String));
    expect(result.value.refresh_token).toMatch(/^v1\.M/);
    const [request] = upstream.requestsTo('token');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.body).toMatchObject({ grant_type: PASSWORD_REALM_GRANT, realm: 'Username-Password-Authentication', username: 'alice@example.com', client_id: CLIENT_ID });
  });

  it('returns an id_token signed with the JWKS key, issued by the tenant with the trailing slash', async () => {
    const result = await passwordLogin(clientWith());
    if (!result.ok) throw new Error('login failed');
    const jwks = await (await fetch(upstream.jwksUri)).json();
    const { payload, protectedHeader } = await jwtVerify(result.value.id_token!, createLocalJWKSet(jwks), { issuer: upstream.issuer, audience: CLIENT_ID });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    expect(payload).toMatchObject({ sub: alice.sub, email: 'alice@example.com', email_verified: true, name: 'Alice Liddell' });
    expect(upstream.issuer).toBe(`${upstream.url}/`);
  });

  it('reads /userinfo with the upstream access token', async () => {
    const client = clientWith();
    const login = await passwordLogin(client);
    if (!login.ok) throw new Error('login failed');
    const info = await client.userinfo({ breakerKey: SOURCE, userinfoEndpoint: upstream.userinfoEndpoint, accessToken: login.value.access_token, deadline: createDeadline(5000) });
    expect(info).toEqual({
      ok: true,
      value: expect.objectContaining({ sub: alice.sub, email: 'alice@example.com', email_verified: true, given_name: 'Alice', family_name: 'Liddell', nickname: 'alice', updated_at: expect.any(String) }),
    });
  });

  it('redeems a refresh token once: the response carries a rotated token and an id_token, the old one dies', async () => {
    const client = clientWith();
    const original = upstream.issueRefreshToken({ sub: alice.sub, client_id: CLIENT_ID, scope: 'openid profile offline_access' });
    const call = (refreshToken: string) =>
      client.refreshToken({ breakerKey: SOURCE, tokenEndpoint: upstream.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken, deadline: createDeadline(5000) });
    const first = await call(original);
    if (!first.ok) throw new Error(`refresh failed: ${JSON.stringify(first.failure)}`);
    expect(first.value.id_token).toEqual(expect.any(String));
    expect(first.value.refresh_token).toMatch(/^v1\.M/);
    expect(first.value.refresh_token).not.toBe(original);
    expect(await call(original)).toEqual({ ok: false, failure: { kind: 'rejected', status: 403, error: 'invalid_grant', description: 'Unknown or invalid refresh token.' } });
    expect((await call(first.value.refresh_token!)).ok).toBe(true);
  });
});

describe('upstream client against the fake Auth0: rejections are answers, not outages', () => {
  const cases: Array<[string, Parameters<typeof passwordLogin>[1], object]> = [
    ['wrong password', { password: 'nope' }, { status: 403, error: 'invalid_grant', description: 'Wrong email or password.' }],
    ['unknown user', { username: 'nobody@example.com' }, { status: 403, error: 'invalid_grant', description: 'Wrong email or password.' }],
    ['realm of another connection', { realm: 'Other-Database' }, { status: 403, error: 'invalid_grant', description: 'Wrong email or password.' }],
    ['MFA required', { username: 'mfa@example.com' }, { status: 403, error: 'mfa_required', description: 'Multifactor authentication required' }],
    ['grant not enabled for the client', { clientId: 'no-ropg-client', clientSecret: 's3' }, { status: 403, error: 'unauthorized_client', description: `Grant type '${PASSWORD_REALM_GRANT}' not allowed for the client.` }],
    ['bad client secret', { clientSecret: 'wrong' }, { status: 401, error: 'access_denied', description: 'Unauthorized' }],
  ];
  for (const [name, overrides, expected] of cases) {
    it(`classifies ${name} as rejected and does not count it against the breaker`, async () => {
      const breakers = createBreakerRegistry({ failureThreshold: 1 });
      const result = await passwordLogin(clientWith({ breakers }), overrides);
      expect(result).toEqual({ ok: false, failure: { kind: 'rejected', ...expected } });
      expect(breakers.check(SOURCE).open).toBe(false);
    });
  }

  it('classifies /userinfo with an unknown access token as rejected invalid_token', async () => {
    const result = await clientWith().userinfo({ breakerKey: SOURCE, userinfoEndpoint: upstream.userinfoEndpoint, accessToken: 'forged', deadline: createDeadline(5000) });
    expect(result).toEqual({ ok: false, failure: { kind: 'rejected', status: 401, error: 'invalid_token' } });
  });
});

describe('upstream client against the fake Auth0: outages and limits', () => {
  for (const status of [500, 502, 503] as const) {
    it(`classifies ${status} as unavailable/server_error and counts a breaker failure`, async () => {
      upstream.failNext('token', { status });
      const breakers = createBreakerRegistry({ failureThreshold: 1 });
      expect(await passwordLogin(clientWith({ breakers }))).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'server_error', status } });
      expect(breakers.check(SOURCE).open).toBe(true);
    });
  }

  it('classifies a 200 with a non-JSON body as malformed_response', async () => {
    upstream.failNext('token', { malformed: true });
    expect(await passwordLogin(clientWith())).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'malformed_response', status: 200 } });
  });

  it('classifies a userinfo answer without a string sub as malformed_response', async () => {
    upstream.failNext('userinfo', { malformed: true });
    const result = await clientWith().userinfo({ breakerKey: SOURCE, userinfoEndpoint: upstream.userinfoEndpoint, accessToken: 'x', deadline: createDeadline(5000) });
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'malformed_response', status: 200 } });
  });

  it('gives up on a hanging upstream at the per-call timeout and counts it as a failure', async () => {
    upstream.failNext('token', { hang: true });
    const breakers = createBreakerRegistry({ failureThreshold: 1 });
    const result = await passwordLogin(clientWith({ breakers, perCallTimeoutMs: 150 }), { totalMs: 20_000 });
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'timeout' } });
    expect(breakers.check(SOURCE).open).toBe(true);
  });

  it('still succeeds when the upstream is slow but inside the timeout', async () => {
    upstream.failNext('token', { delayMs: 30 });
    expect((await passwordLogin(clientWith({ perCallTimeoutMs: 5000 }))).ok).toBe(true);
  });

  it('reports budget_exhausted without calling when the request budget is spent (or too short for a call): nothing was asked, so it may be retried', async () => {
    for (const totalMs of [0, 200]) {
      const result = await passwordLogin(clientWith(), { totalMs });
      expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'budget_exhausted', retryAfterSeconds: 1 } });
    }
    expect(upstream.requestsTo('token')).toHaveLength(0);
  });

  it('stops a hanging call at the remaining budget when it is shorter than the per-call timeout, without blaming the upstream', async () => {
    upstream.failNext('token', { hang: true });
    const breakers = createBreakerRegistry({ failureThreshold: 1 });
    const result = await passwordLogin(clientWith({ breakers, perCallTimeoutMs: 60_000 }), { totalMs: 400 });
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'budget_exhausted' } });
    expect(breakers.check(SOURCE).open).toBe(false);
  });

  it('reads a 429 for what it means: the global limit until its reset, an account blocked upstream as that user\'s rejection, and it opens no breaker', async () => {
    const breakers = createBreakerRegistry({ failureThreshold: 1 });
    const client = clientWith({ breakers });
    upstream.failNext('token', { status: 429, retryAfter: 7 });
    const global = await passwordLogin(client);
    expect(global).toMatchObject({ ok: false, failure: { kind: 'rate_limited', status: 429, scope: 'global' } });
    // Retry-After 7 s, X-RateLimit-Reset in whole seconds: up to 8 s.
    expect([7, 8]).toContain(!global.ok && global.failure.kind === 'rate_limited' && global.failure.retryAfterSeconds);

    upstream.failNext('token', { status: 500, globalLimit: true });
    expect(await passwordLogin(client)).toMatchObject({ ok: false, failure: { kind: 'rate_limited', scope: 'global', retryAfterSeconds: 1 } });

    upstream.failNext('token', { status: 429, ambiguous: true, retryAfter: 3600 });
    expect(await passwordLogin(client)).toMatchObject({ ok: false, failure: { kind: 'rate_limited', scope: 'unknown', retryAfterSeconds: 3 } });

    upstream.addUser({ email: 'blocked@example.com', password: 'pw' });
    upstream.blockAccount('blocked@example.com');
    expect(await passwordLogin(client, { username: 'blocked@example.com', password: 'pw' })).toMatchObject({
      ok: false,
      failure: { kind: 'rejected', status: 429, error: 'too_many_attempts' },
    });
    expect(breakers.check(SOURCE).open).toBe(false);
    expect(upstream.requestsTo('token')).toHaveLength(4);
  });

  it('refuses an http endpoint when not running locally, without any request', async () => {
    const result = await passwordLogin(clientWith({ allowLoopbackHttp: false }));
    expect(result).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'insecure_endpoint' } });
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('upstream client against the fake Auth0: circuit breaker', () => {
  it('opens after consecutive outages, lets one trial through after the cool-down, and closes on its success', async () => {
    const clock = manualClock();
    const client = clientWith({ breakers: createBreakerRegistry({ failureThreshold: 2, coolDownMs: 10_000, now: clock.now }) });
    upstream.failNext('token', { status: 503 }, 2);
    await passwordLogin(client);
    await passwordLogin(client);
    expect(await passwordLogin(client)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'circuit_open', retryAfterSeconds: 10 } });
    expect(upstream.requestsTo('token')).toHaveLength(2);
    clock.advance(10_000);
    expect((await passwordLogin(client)).ok).toBe(true);
    expect((await passwordLogin(client)).ok).toBe(true);
    expect(upstream.requestsTo('token')).toHaveLength(4);
  });

  it('reopens when the half-open trial fails', async () => {
    const clock = manualClock();
    const client = clientWith({ breakers: createBreakerRegistry({ failureThreshold: 2, coolDownMs: 10_000, now: clock.now }) });
    upstream.failNext('token', { status: 502 }, 3);
    await passwordLogin(client);
    await passwordLogin(client);
    clock.advance(10_000);
    expect(await passwordLogin(client)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'server_error', status: 502 } });
    expect(await passwordLogin(client)).toEqual({ ok: false, failure: { kind: 'unavailable', reason: 'circuit_open', retryAfterSeconds: 10 } });
    expect(upstream.requestsTo('token')).toHaveLength(3);
  });
});

describe('upstream call log lines', () => {
  it('say what happened per call and never contain the password, the client secret or any token', async () => {
    logLines = [];
    const client = clientWith();
    const login = await passwordLogin(client);
    if (!login.ok) throw new Error('login failed');
    await client.userinfo({ breakerKey: SOURCE, userinfoEndpoint: upstream.userinfoEndpoint, accessToken: login.value.access_token, deadline: createDeadline(5000) });
    const refreshed = await client.refreshToken({ breakerKey: SOURCE, tokenEndpoint: upstream.tokenEndpoint, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: login.value.refresh_token!, deadline: createDeadline(5000) });
    if (!refreshed.ok) throw new Error('refresh failed');
    await passwordLogin(client, { password: 'wrong-password-also-secret' });
    upstream.failNext('token', { status: 500 });
    await passwordLogin(client);

    expect(logLines.map((l) => [l.call, l.outcome, l.reason ?? l.upstream_error ?? null])).toEqual([
      ['password_realm', 'ok', null],
      ['userinfo', 'ok', null],
      ['refresh_token', 'ok', null],
      ['password_realm', 'rejected', 'invalid_grant'],
      ['password_realm', 'unavailable', 'server_error'],
    ]);
    expect(logLines[0]).toMatchObject({ message: 'upstream_call', breaker_key: SOURCE, status: 200, latency_ms: expect.any(Number) });
    const text = JSON.stringify(logLines);
    const secrets = [PASSWORD, 'wrong-password-also-secret', CLIENT_SECRET, login.value.access_token, login.value.refresh_token!, login.value.id_token!, refreshed.value.access_token, refreshed.value.refresh_token!];
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

describe('the fake upstream answers like Auth0', () => {
  const post = (body: Record<string, string>, init: { json?: boolean; headers?: Record<string, string> } = {}) =>
    fetch(upstream.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': init.json ? 'application/json' : 'application/x-www-form-urlencoded', ...init.headers },
      body: init.json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
    });

  it('accepts a JSON body with grant_type=password and no realm, using the default database connection', async () => {
    const res = await post({ grant_type: 'password', username: 'alice@example.com', password: PASSWORD, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'openid' }, { json: true });
    // the client above is not allowed the plain password grant
    expect(res.status).toBe(403);
    upstream.clients.addClient({ client_id: 'ropg-json', client_secret: 'js', grant_types: ['password'] });
    const ok = await post({ grant_type: 'password', username: 'ALICE@example.com', password: PASSWORD, client_id: 'ropg-json', client_secret: 'js', scope: 'openid' }, { json: true });
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 86400, scope: 'openid', id_token: expect.any(String) });
    expect(body.refresh_token).toBeUndefined();
  });

  it('authenticates the client with HTTP Basic (url-encoded halves)', async () => {
    upstream.clients.addClient({ client_id: 'basic:client', client_secret: 'p@ss:word', grant_types: [PASSWORD_REALM_GRANT] });
    const basic = Buffer.from(`${encodeURIComponent('basic:client')}:${encodeURIComponent('p@ss:word')}`).toString('base64');
    const res = await post({ grant_type: PASSWORD_REALM_GRANT, realm: 'Username-Password-Authentication', username: 'alice@example.com', password: PASSWORD }, { headers: { authorization: `Basic ${basic}` } });
    expect(res.status).toBe(200);
  });

  it('rejects an unknown grant type and a refresh scope wider than the original', async () => {
    const unknown = await post({ grant_type: 'urn:example:nope', client_id: CLIENT_ID });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const rt = upstream.issueRefreshToken({ sub: alice.sub, client_id: CLIENT_ID, scope: 'openid offline_access' });
    const wider = await post({ grant_type: 'refresh_token', refresh_token: rt, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'openid email' });
    expect(wider.status).toBe(403);
    expect(await wider.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('omits the id_token on refresh when the original scope had no openid', async () => {
    const rt = upstream.issueRefreshToken({ sub: alice.sub, client_id: CLIENT_ID, scope: 'offline_access' });
    const res = await post({ grant_type: 'refresh_token', refresh_token: rt, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.id_token).toBeUndefined();
    expect(body.refresh_token).toMatch(/^v1\.M[A-Za-z0-9_-]{50,}$/);
  });

  it('sends Retry-After and X-RateLimit headers with a scripted 429', async () => {
    upstream.failNext('token', { status: 429, retryAfter: 3 });
    const res = await post({ grant_type: 'refresh_token', refresh_token: 'x', client_id: CLIENT_ID });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await res.json()).toMatchObject({ error: 'too_many_requests' });
  });

  it('serves discovery and JWKS documents with the tenant issuer', async () => {
    const discovery = await (await fetch(`${upstream.url}/.well-known/openid-configuration`)).json();
    expect(discovery).toMatchObject({ issuer: upstream.issuer, token_endpoint: upstream.tokenEndpoint, userinfo_endpoint: upstream.userinfoEndpoint, jwks_uri: upstream.jwksUri, subject_types_supported: ['public'] });
    const jwks = await (await fetch(upstream.jwksUri)).json();
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: expect.any(String), n: expect.any(String), e: 'AQAB' })]);
    expect(jwks.keys[0].d).toBeUndefined();
  });

  it('records requests and forgets them and pending faults on reset, but keeps users', async () => {
    upstream.failNext('token', { status: 500 }, 5);
    await post({ grant_type: 'refresh_token', refresh_token: 'x', client_id: CLIENT_ID });
    expect(upstream.requestsTo('token')).toEqual([expect.objectContaining({ method: 'POST', path: '/oauth/token', body: expect.objectContaining({ refresh_token: 'x' }) })]);
    upstream.reset();
    expect(upstream.requests).toHaveLength(0);
    expect((await passwordLogin(clientWith())).ok).toBe(true);
  });

  it('ends a hanging request when it is closed, so test runs can stop', async () => {
    const own = await startFakeUpstream();
    own.failNext('jwks', { hang: true });
    const pending = fetch(own.jwksUri).then(() => 'answered', () => 'connection ended');
    while (own.requestsTo('jwks').length === 0) await new Promise((r) => setTimeout(r, 5));
    await own.close();
    expect(await pending).toBe('connection ended');
  });
});
