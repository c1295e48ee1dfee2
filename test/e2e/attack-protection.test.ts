import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { createUser } from '../../lambdas/identity/create-user.js';
import { connectionByName } from '../../lambdas/store/tenant-config-repository.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { postFormFrom } from '../support/from-ip.js';
import { linkUpstream } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { createRoundTripCounter } from '../../lambdas/store/dynamo-client.js';
import { managementApi } from './management-helpers.js';

/**
 * Brute-force protection and suspicious-IP throttling, as Auth0 does them, against two server
 * processes sharing one engine: strikes count per (connection, user, client IP), a user is one
 * counter whatever identifier is typed, an identifier-wide ceiling stops distributed guessing,
 * and a client IP with too many failures across identifiers is refused before the upstream.
 * Client IPs are loopback addresses bound on the client socket.
 */
let engine: EmbeddedEngine;
let dataDir: string;
let a: TestService;
let b: TestService;
let upstream: FakeUpstream;
let api: ReturnType<typeof managementApi>;
let token: string;
let n = 0;

beforeAll(async () => {
  engine = await startEmbeddedEngine();
  dataDir = mkdtempSync(join(tmpdir(), 'attack-protection-'));
  a = await startTestService({ dynamoEndpoint: engine.endpoint, dataDir });
  upstream = await startFakeUpstream();
  // Before b starts, so that b's secret store reads the upstream secret from the shared file.
  await linkUpstream(a, upstream);
  b = await startTestService({ dynamoEndpoint: engine.endpoint, dataDir });
  api = managementApi(a);
  token = await api.token(a.credentials.machineClient);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await upstream?.close();
  await engine?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const wrong = { status: 403, body: { error: 'invalid_grant', error_description: 'Wrong email or password.' } };
const locked = { status: 429, body: { error: 'too_many_attempts', error_description: 'Your account has been blocked after multiple consecutive login attempts.' } };
const suspicious = {
  status: 429,
  body: {
    error: 'too_many_attempts',
    error_description: 'We have detected suspicious login behavior and further attempts will be blocked. Please contact the administrator.',
  },
};

async function newUser(withUsername = false) {
  const deps = a.deps;
  const tenant = a.credentials.tenant;
  const connection = connectionByName((await deps.tenantConfigs.load(tenant))!, a.credentials.connection.name)!;
  n += 1;
  const email = `ap-${n}-${Date.now()}@example.com`;
  const username = withUsername ? `ap_user_${n}_${Date.now()}` : undefined;
  const password = `Right-${n}-password!`;
  await createUser(deps, { tenant, connection, profile: { email, email_verified: true, username }, password });
  return { email, username, password };
}

/** A password login from `ip`, alternately on server a and b (two Lambda instances, one table). */
let turn = 0;
async function login(ip: string, username: string, password: string) {
  const server = turn++ % 2 === 0 ? a : b;
  const web = server.credentials.webClient;
  const res = await postFormFrom(ip, server.url, '/oauth/token', {
    grant_type: 'password',
    username,
    password,
    client_id: web.client_id,
    client_secret: web.client_secret,
  });
  return { status: res.status, body: res.body };
}

function events(service: TestService, type: string) {
  return service.logLines.map((l) => JSON.parse(l)).filter((e) => e.message === 'auth_event' && e.type === type);
}

async function patch(path: string, body: unknown) {
  const res = await api.call('PATCH', `/api/v2/attack-protection/${path}`, { token, body });
  a.deps.tenantConfigCache.invalidate(a.credentials.tenant);
  b.deps.tenantConfigCache.invalidate(b.credentials.tenant);
  return res;
}

describe('brute-force protection: strikes per (connection, user, client IP)', () => {
  it("another IP's three wrong guesses lock that IP out, and the user still signs in from their own IP", async () => {
    const user = await newUser();
    for (let i = 0; i < 3; i++) expect(await login('127.0.0.2', user.email, 'wrong')).toEqual(wrong);
    expect(await login('127.0.0.2', user.email, user.password)).toEqual(locked);
    expect((await login('127.0.0.3', user.email, user.password)).status).toBe(200);
  });

  it('a user is one counter whatever identifier they type: 3 strikes over email and username lock both', async () => {
    const user = await newUser(true);
    expect(await login('127.0.0.4', user.email, 'wrong')).toEqual(wrong);
    expect(await login('127.0.0.4', user.username!, 'wrong')).toEqual(wrong);
    expect(await login('127.0.0.4', user.email.toUpperCase(), 'wrong')).toEqual(wrong);
    expect(await login('127.0.0.4', user.username!, user.password)).toEqual(locked);
    expect(await login('127.0.0.4', user.email, user.password)).toEqual(locked);
  });

  it('the identifier-wide ceiling (10 × max_attempts across IPs) stops distributed guessing, except from the IP the user last signed in from', async () => {
    const user = await newUser();
    expect((await login('127.0.1.1', user.email, user.password)).status).toBe(200);
    for (let ip = 10; ip < 20; ip++) {
      for (let i = 0; i < 3; i++) expect(await login(`127.0.2.${ip}`, user.email, 'wrong')).toEqual(wrong);
    }
    const mark = a.logLines.length + b.logLines.length;
    expect(await login('127.0.2.30', user.email, user.password)).toEqual(locked);
    expect(await login('127.0.2.31', user.email, user.password)).toEqual(locked);
    expect(mark).toBeLessThan(a.logLines.length + b.logLines.length);
    expect([...events(a, 'limit_wc'), ...events(b, 'limit_wc')].filter((e) => e.reason === 'identifier_ceiling')).toHaveLength(2);
    expect((await login('127.0.1.1', user.email, user.password)).status).toBe(200);
  });

  it('mode count_per_identifier counts strikes from every IP together (Auth0 shape), and an allowlisted IP is never counted', async () => {
    const user = await newUser();
    expect((await patch('brute-force-protection', { mode: 'count_per_identifier', allowlist: ['127.0.3.0/24'] })).status).toBe(200);
    try {
      for (let i = 0; i < 5; i++) expect(await login('127.0.3.9', user.email, 'wrong')).toEqual(wrong);
      expect(await login('127.0.0.5', user.email, 'wrong')).toEqual(wrong);
      expect(await login('127.0.0.6', user.email, 'wrong')).toEqual(wrong);
      expect(await login('127.0.0.7', user.email, 'wrong')).toEqual(wrong);
      expect(await login('127.0.0.8', user.email, user.password)).toEqual(locked);
    } finally {
      await patch('brute-force-protection', { mode: 'count_per_identifier_and_ip', allowlist: [] });
    }
  });
});

describe('suspicious-IP throttling: failures per client IP across identifiers, before the upstream', () => {
  it('an IP past pre-login max_attempts is refused 429 limit_sul before bcrypt and the upstream; other IPs and the allowlist pass', async () => {
    expect((await patch('suspicious-ip-throttling', { stage: { 'pre-login': { max_attempts: 5, rate: 864000 } }, allowlist: ['127.0.5.5'] })).status).toBe(200);
    try {
      for (let i = 0; i < 5; i++) expect(await login('127.0.4.4', `spray-${i}-${Date.now()}@example.com`, 'guess')).toEqual(wrong);
      const calls = upstream.requestsTo('token').length;
      const email = `spray-last-${Date.now()}@example.com`;
      upstream.addUser({ email, password: 'Upstream-pass-1' });
      expect(await login('127.0.4.4', email, 'Upstream-pass-1')).toEqual(suspicious);
      expect(upstream.requestsTo('token').length).toBe(calls);
      expect([...events(a, 'limit_sul'), ...events(b, 'limit_sul')].map((e) => e.reason)).toContain('suspicious_ip');
      for (let i = 0; i < 6; i++) expect(await login('127.0.5.5', `allowed-${i}-${Date.now()}@example.com`, 'guess')).toEqual(wrong);
      expect((await login('127.0.4.5', email, 'Upstream-pass-1')).status).toBe(200);
    } finally {
      await patch('suspicious-ip-throttling', { stage: { 'pre-login': { max_attempts: 100, rate: 864000 } }, allowlist: [] });
    }
  });
});

describe('suspicious-IP throttling at a crowd', () => {
  it('an instance that refused an IP refuses its next attempts without reading the store for a few seconds, and a raised limit lets it through at once', async () => {
    const counter = createRoundTripCounter();
    const c = await startTestService({ dynamoEndpoint: engine.endpoint, dataDir, counter });
    const ip = '127.0.6.6';
    const tryFrom = async () => {
      const web = c.credentials.webClient;
      const res = await postFormFrom(ip, c.url, '/oauth/token', { grant_type: 'password', username: `flood-${Date.now()}-${Math.random()}@example.com`, password: 'guess', client_id: web.client_id, client_secret: web.client_secret });
      return { status: res.status, body: res.body };
    };
    try {
      expect((await patch('suspicious-ip-throttling', { stage: { 'pre-login': { max_attempts: 3, rate: 864000 } } })).status).toBe(200);
      c.deps.tenantConfigCache.invalidate(c.credentials.tenant);
      for (let i = 0; i < 3; i++) expect(await tryFrom()).toEqual(wrong);
      // Read at its limit: refused.
      expect(await tryFrom()).toEqual(suspicious);
      // Refused again with the log line its only store request.
      const before = { ...counter.byOperation };
      expect(await tryFrom()).toEqual(suspicious);
      const sent = Object.fromEntries(Object.entries(counter.byOperation).flatMap(([op, n]) => (n > (before[op] ?? 0) ? [[op, n - (before[op] ?? 0)]] : [])));
      expect(sent).toEqual({ BatchWriteItem: 1 });
      // A raised limit applies at once.
      await patch('suspicious-ip-throttling', { stage: { 'pre-login': { max_attempts: 100, rate: 864000 } } });
      c.deps.tenantConfigCache.invalidate(c.credentials.tenant);
      expect(await tryFrom()).toEqual(wrong);
    } finally {
      await patch('suspicious-ip-throttling', { stage: { 'pre-login': { max_attempts: 100, rate: 864000 } }, allowlist: [] });
      await c.close();
    }
  });
});

describe('/api/v2/attack-protection in Auth0 shape', () => {
  it('GET answers the defaults: 3 attempts per identifier and IP; 100 a day per IP', async () => {
    const bfp = await api.call('GET', '/api/v2/attack-protection/brute-force-protection', { token });
    expect(bfp.body).toMatchObject({ enabled: true, mode: 'count_per_identifier_and_ip', max_attempts: 3, allowlist: [], shields: ['block', 'user_notification'] });
    const sip = await api.call('GET', '/api/v2/attack-protection/suspicious-ip-throttling', { token });
    expect(sip.body.stage['pre-login']).toEqual({ max_attempts: 100, rate: 864000 });
  });

  it.each([
    ['brute-force-protection', { max_attempts: 0 }],
    ['brute-force-protection', { max_attempts: 1e9 }],
    ['brute-force-protection', { mode: 'per_moon' }],
    ['brute-force-protection', { allowlist: ['not-an-ip'] }],
    ['brute-force-protection', { allowlist: ['10.0.0.0/33'] }],
    ['brute-force-protection', { surprise: true }],
    ['suspicious-ip-throttling', { stage: { 'pre-login': { max_attempts: -1 } } }],
    ['suspicious-ip-throttling', { stage: { 'pre-login': { rate: 'fast' } } }],
    ['suspicious-ip-throttling', { stage: { 'during-login': {} } }],
  ])('PATCH %s %j is a 400 in the Management API shape and changes nothing', async (path, body) => {
    const before = await api.call('GET', `/api/v2/attack-protection/${path}`, { token });
    const res = await api.call('PATCH', `/api/v2/attack-protection/${path}`, { token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errorCode: 'invalid_body' });
    expect((await api.call('GET', `/api/v2/attack-protection/${path}`, { token })).body).toEqual(before.body);
  });

  it('PATCH max_attempts changes how many strikes an IP gets', async () => {
    const user = await newUser();
    expect((await patch('brute-force-protection', { max_attempts: 1 })).body.max_attempts).toBe(1);
    try {
      expect(await login('127.0.6.1', user.email, 'wrong')).toEqual(wrong);
      expect(await login('127.0.6.1', user.email, user.password)).toEqual(locked);
    } finally {
      await patch('brute-force-protection', { max_attempts: 3 });
    }
  });
});
