import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { PASSWORD_REALM_GRANT } from '../../lambdas/migration/upstream-client.js';
import { keys } from '../../lambdas/store/keys.js';
import type { MigrationSourceRecord } from '../../lambdas/store/records.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream, setImportMode } from '../support/import-mode.js';
import { addMigrationSource, removeMigrationSource } from '../support/migration-source.js';
import { startServerFleet, type Fleet } from '../support/server-fleet.js';

/**
 * The upstream budget across a fleet: two server processes sharing one engine (as Lambda
 * instances share the table) against the fake upstream Auth0, with clients that retry a 429 or
 * 503 after its Retry-After as Auth0's SDKs do.
 */
const CONFIG_CACHE_MS = 200;
const SCOPE = 'openid profile email offline_access';
let engine: EmbeddedEngine;
let fleet: Fleet;
const upstreams: FakeUpstream[] = [];
const sources: MigrationSourceRecord[] = [];

beforeAll(async () => {
  engine = await startEmbeddedEngine();
  fleet = await startServerFleet({ engineEndpoint: engine.endpoint, size: 2, config: { configCacheMs: CONFIG_CACHE_MS } });
}, 60_000);
afterAll(async () => {
  await fleet?.close();
  await engine?.close();
});
afterEach(async () => {
  for (const source of sources.splice(0)) await removeMigrationSource(fleet.admin, source);
  await setImportMode(fleet.admin, false).catch(() => {});
  await Promise.all(upstreams.splice(0).map((u) => u.close()));
  await configSeen();
});

/** The servers read the tenant configuration again within CONFIG_CACHE_MS. */
const configSeen = () => new Promise((resolve) => setTimeout(resolve, CONFIG_CACHE_MS + 100));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function newUpstream(opts: { globalLimit?: number } = {}) {
  const upstream = await startFakeUpstream(opts);
  upstreams.push(upstream);
  return upstream;
}

async function newSource(upstream: FakeUpstream, opts: { requestsPerSecond?: number; profile_from?: 'id_token' } = {}) {
  const { source, clientId } = await addMigrationSource(fleet.admin, upstream, opts);
  sources.push(source);
  return {
    session(label: string) {
      const user = upstream.addUser({ email: `${label}-${randomBytes(5).toString('hex')}@example.com`, password: 'Upstream-pw-1' });
      return { user, token: upstream.issueRefreshToken({ sub: user.sub, client_id: clientId, scope: SCOPE }) };
    },
  };
}

async function post(serverUrl: string, form: Record<string, string>) {
  const res = await fetch(`${serverUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, retryAfter: Number(res.headers.get('retry-after') ?? 0), body: (await res.json()) as Record<string, string> };
}

function refresh(serverUrl: string, refreshToken: string) {
  const c = fleet.credentials.webClient;
  return post(serverUrl, { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: refreshToken });
}

function login(serverUrl: string, username: string, password: string) {
  const c = fleet.credentials.webClient;
  return post(serverUrl, {
    grant_type: PASSWORD_REALM_GRANT,
    realm: fleet.credentials.connection.name,
    client_id: c.client_id,
    client_secret: c.client_secret,
    username,
    password,
    scope: 'openid',
  });
}

/** A client as Auth0's SDKs behave: a 429 or 503 is retried after its Retry-After. */
async function withRetries(send: () => Promise<Awaited<ReturnType<typeof post>>>, attempts = 20) {
  let answer = await send();
  for (let i = 1; i < attempts && (answer.status === 429 || answer.status === 503); i++) {
    await sleep(Math.max(1, answer.retryAfter) * 1000);
    answer = await send();
  }
  return answer;
}

const busiestSecond = (upstream: FakeUpstream) => Math.max(0, ...upstream.callsPerSecond().values());

describe('one upstream budget for the whole fleet', () => {
  it('two server processes sharing the table stay under the configured rate together, and every re-mint completes', async () => {
    const RATE = 8;
    const upstream = await newUpstream({ globalLimit: 20 });
    const source = await newSource(upstream, { requestsPerSecond: RATE, profile_from: 'id_token' });
    await configSeen();
    const sessions = Array.from({ length: 24 }, (_, i) => source.session(`fleet${i}`));

    const answers = await Promise.all(sessions.map((s, i) => withRetries(() => refresh(fleet.servers[i % 2].url, s.token))));

    expect(answers.map((a) => a.status)).toEqual(sessions.map(() => 200));
    expect(upstream.globalLimitRefusals()).toBe(0);
    // The bucket lets a quarter of a second's calls through at once on top of the rate.
    expect(busiestSecond(upstream)).toBeLessThanOrEqual(RATE + RATE / 4);
    expect(upstream.requestsTo('token')).toHaveLength(24);
  }, 60_000);

  it('a global-limit answer pauses the whole fleet until its reset, and no longer', async () => {
    const upstream = await newUpstream();
    const source = await newSource(upstream);
    await configSeen();
    const [first, second] = [source.session('paused-a'), source.session('paused-b')];
    upstream.failNext('token', { status: 429, retryAfter: 2 });

    const limited = await refresh(fleet.servers[0].url, first.token);
    expect([limited.status, limited.body.error]).toEqual([429, 'too_many_requests']);
    const elsewhere = await refresh(fleet.servers[1].url, second.token);
    expect(elsewhere.status).toBe(429);
    expect(upstream.requestsTo('token')).toHaveLength(1);

    await sleep(Math.max(limited.retryAfter, elsewhere.retryAfter) * 1000);
    expect((await refresh(fleet.servers[1].url, second.token)).status).toBe(200);
    expect((await refresh(fleet.servers[0].url, first.token)).status).toBe(200);
    expect(upstream.requestsTo('token')).toHaveLength(3);
  }, 30_000);

  it("a per-account 429 (too_many_attempts) is that user's wrong password and a strike, and leaves everyone else's logins and re-mints untouched", async () => {
    const upstream = await newUpstream();
    await linkUpstream(fleet.admin, upstream);
    const source = await newSource(upstream);
    await configSeen();
    const blocked = upstream.addUser({ email: `blocked-${randomBytes(4).toString('hex')}@example.com`, password: 'Upstream-pw-1' });
    const other = upstream.addUser({ email: `other-${randomBytes(4).toString('hex')}@example.com`, password: 'Upstream-pw-1' });
    upstream.blockAccount(blocked.email);

    const refused = await login(fleet.servers[0].url, blocked.email, 'Upstream-pw-1');
    expect([refused.status, refused.body.error, refused.body.error_description]).toEqual([403, 'invalid_grant', 'Wrong email or password.']);
    expect((await login(fleet.servers[1].url, other.email, 'Upstream-pw-1')).status).toBe(200);
    expect((await refresh(fleet.servers[0].url, source.session('untouched').token)).status).toBe(200);

    const { tenant, connection } = fleet.credentials;
    const counter = await fleet.admin.deps.db.send(new GetCommand({ TableName: fleet.admin.deps.tableName, Key: keys.lockout(tenant, connection.id, `id:${blocked.email}`, '127.0.0.1') }));
    expect(counter.Item?.failures).toBe(1);
  }, 30_000);

  it('a re-mint that finds the bucket empty gets a retryable 429 with Retry-After, and succeeds on retry', async () => {
    const upstream = await newUpstream();
    const source = await newSource(upstream, { requestsPerSecond: 1, profile_from: 'id_token' });
    await configSeen();
    const sessions = [source.session('empty-a'), source.session('empty-b'), source.session('empty-c')];

    const firstTry = await Promise.all(sessions.map((s, i) => refresh(fleet.servers[i % 2].url, s.token)));
    const refused = firstTry.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer.body.error).toBe('too_many_requests');
      expect(answer.retryAfter).toBeGreaterThanOrEqual(1);
    }

    const retried = await Promise.all(sessions.map((s, i) => (firstTry[i].status === 200 ? firstTry[i] : withRetries(() => refresh(fleet.servers[i % 2].url, s.token)))));
    expect(retried.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(upstream.requestsTo('token')).toHaveLength(3);
  }, 60_000);
});
