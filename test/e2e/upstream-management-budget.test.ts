import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { keys } from '../../lambdas/store/keys.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { requestFrom } from '../support/from-ip.js';
import { linkUpstream, updateConnectionOptions } from '../support/import-mode.js';
import { startServerFleet, type Fleet } from '../support/server-fleet.js';

/**
 * The upstream Management API (signup and reset look-ups, the whole-user copy) spends from a
 * fleet-wide budget of its own, beside the Authentication API's, and shares its breaker across
 * the fleet: two server processes on one engine, signups in import mode (each one looks its email
 * up upstream with `GET /api/v2/users-by-email`).
 */
const CONFIG_CACHE_MS = 200;
const MGMT = { client_id: 'fleet-lookup', client_secret: randomBytes(24).toString('base64url') };
const SECRET_REF = 'test/fleet-lookup';
let engine: EmbeddedEngine;
let fleet: Fleet;
let upstream: FakeUpstream;

beforeAll(async () => {
  [engine, upstream] = await Promise.all([startEmbeddedEngine(), startFakeUpstream()]);
  fleet = await startServerFleet({ engineEndpoint: engine.endpoint, size: 2, config: { configCacheMs: CONFIG_CACHE_MS } });
  upstream.management.addClient({ ...MGMT, scopes: ['read:users', 'read:roles'] });
  await fleet.admin.deps.secrets.put(SECRET_REF, MGMT.client_secret);
  await linkUpstream(fleet.admin, upstream);
}, 60_000);
afterAll(async () => {
  await fleet?.close();
  await Promise.all([engine?.close(), upstream?.close()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Look-up credentials on the connection, with the Management API's own rate. */
async function lookupAt(requestsPerSecond: number) {
  await updateConnectionOptions(fleet.admin, (o) => ({
    ...o,
    configuration: {
      ...o.configuration!,
      management_api: { domain: upstream.domain, client_id: MGMT.client_id, client_secret_ref: SECRET_REF, rate_limit: { requests_per_second: requestsPerSecond } },
    },
  }));
  await sleep(CONFIG_CACHE_MS + 100);
}

function signUp(server: number, ip: string) {
  const c = fleet.credentials;
  const body = JSON.stringify({ client_id: c.webClient.client_id, connection: c.connection.name, email: `new-${randomBytes(5).toString('hex')}@example.com`, password: 'Good-pass-123' });
  return () =>
    requestFrom(ip, `${fleet.servers[server].url}/dbconnections/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((a) => ({
      status: a.status,
      retryAfter: Number(a.headers['retry-after'] ?? 0),
      body: a.body,
    }));
}

/** A client as Auth0's SDKs behave: a 429 or 503 is retried after its Retry-After. */
async function withRetries(send: () => Promise<{ status: number; retryAfter: number }>, attempts = 20) {
  let answer = await send();
  for (let i = 1; i < attempts && (answer.status === 429 || answer.status === 503); i++) {
    await sleep(Math.max(1, answer.retryAfter) * 1000);
    answer = await send();
  }
  return answer;
}

/** Management API calls (its client-credentials token included) the fake upstream received, per calendar second. */
function managementCalls() {
  const calls = upstream.requests.filter((r) => r.path.startsWith('/api/v2/') || (r.path === '/oauth/token' && r.body.grant_type === 'client_credentials'));
  const perSecond = new Map<number, number>();
  for (const r of calls) perSecond.set(Math.floor(r.at / 1000), (perSecond.get(Math.floor(r.at / 1000)) ?? 0) + 1);
  return { count: calls.length, busiestSecond: Math.max(0, ...perSecond.values()) };
}

async function budgetItem(api: 'authentication' | 'management') {
  const key = keys.upstreamBudget(fleet.credentials.tenant, upstream.domain);
  const res = await fleet.admin.deps.db.send(
    new GetCommand({ TableName: fleet.admin.deps.tableName, Key: api === 'management' ? { ...key, sk: `${key.sk}#MANAGEMENT` } : key, ConsistentRead: true }),
  );
  return res.Item;
}

describe("the upstream Management API's own fleet-wide budget and breaker", () => {
  it('two server processes sharing the table stay under the configured Management API rate together, and every signup completes', async () => {
    const RATE = 4;
    await lookupAt(RATE);
    const before = managementCalls().count;

    const answers = await Promise.all(Array.from({ length: 14 }, (_, i) => withRetries(signUp(i % 2, '127.0.0.11'))));

    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const after = managementCalls();
    expect(after.count - before).toBeGreaterThanOrEqual(14);
    // The bucket lets a quarter of a second's calls through at once on top of the rate; calls are
    // counted when they arrive, so one released just before a second's edge may land just after it
    // on a loaded machine. Each process alone would allow RATE + RATE / 4: together, twice that.
    expect(after.busiestSecond).toBeLessThanOrEqual(RATE + RATE / 4 + 1);
    // Only the Management API's bucket was spent: the Authentication API's has no schedule.
    expect((await budgetItem('management'))?.tat).toBeGreaterThan(0);
    expect((await budgetItem('authentication'))?.tat).toBeUndefined();
  }, 90_000);

  it('a signup that finds the bucket empty gets a retryable 503 with Retry-After, and succeeds on retry', async () => {
    await lookupAt(1);
    const sends = Array.from({ length: 8 }, () => signUp(0, '127.0.0.12'));

    const firstTry = await Promise.all(sends.map((send) => send()));
    const refused = firstTry.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer.body.code).toBe('temporarily_unavailable');
      expect(answer.retryAfter).toBeGreaterThanOrEqual(1);
    }

    const retried = await Promise.all(sends.map((send, i) => (firstTry[i].status === 200 ? firstTry[i] : withRetries(send))));
    expect(retried.map((a) => a.status)).toEqual(sends.map(() => 200));
  }, 90_000);

  it("a global-limit answer from the upstream Management API pauses the Management API's bucket only", async () => {
    await lookupAt(100);
    const sentAt = Date.now();
    upstream.management.failNext(429);

    const limited = await signUp(1, '127.0.0.13')();

    expect([limited.status, limited.body.code]).toEqual([503, 'temporarily_unavailable']);
    expect(limited.retryAfter).toBeGreaterThanOrEqual(1);
    // The 429 said "Global limit has been reached" with Retry-After 1: no Management API call before then, fleet-wide.
    expect(Number((await budgetItem('management'))?.tat)).toBeGreaterThan(sentAt + 1000);
    // The Authentication API's bucket is not paused.
    expect(Number((await budgetItem('authentication'))?.tat ?? 0)).toBeLessThan(sentAt + 1000);
    // Nor is the breaker opened: after the pause the other process's signup goes through.
    expect((await withRetries(signUp(0, '127.0.0.13'))).status).toBe(200);
  }, 30_000);

  it("one process's failures open the breaker for the other: it refuses without calling the upstream", async () => {
    await lookupAt(100);
    upstream.management.failNext(500, 5);
    const failing = [];
    for (let i = 0; i < 5; i++) failing.push(await signUp(0, '127.0.0.14')());
    expect(failing.map((a) => a.status)).toEqual([503, 503, 503, 503, 503]);
    const callsBefore = managementCalls().count;

    const elsewhere = await signUp(1, '127.0.0.14')();

    expect([elsewhere.status, elsewhere.body.code]).toEqual([503, 'temporarily_unavailable']);
    expect(managementCalls().count).toBe(callsBefore);
    const item = await budgetItem('management');
    const breaker = `brk_${fleet.credentials.tenant}:${fleet.credentials.connection.id}:management`;
    expect(Number(item?.[breaker])).toBeGreaterThan(Date.now());
  }, 30_000);
});
