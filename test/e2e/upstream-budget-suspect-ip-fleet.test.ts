import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { PASSWORD_REALM_GRANT } from '../../lambdas/migration/upstream-client.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { postFormFrom } from '../support/from-ip.js';
import { linkUpstream } from '../support/import-mode.js';
import { startServerFleet, type Fleet } from '../support/server-fleet.js';

/**
 * A flood of random-email logins from one client IP during a busy flip day, against two server
 * processes sharing one engine: once the IP is suspect (`suspectIpFailures`, 2 here) and an
 * instance knows the upstream budget busy, a login for an identifier unknown here is answered
 * 429 before the strike counter and the user reads, so the flood costs the fleet as little as
 * Auth0's suspicious-IP refusal does. Client IPs are loopback addresses bound on the socket.
 */
const SUSPECT_IP = '127.0.0.5';
const USERS_IP = '127.0.0.6';
const PASSWORD = 'Upstream-pw-1';
let engine: EmbeddedEngine;
let fleet: Fleet;
let upstream: FakeUpstream;

beforeAll(async () => {
  engine = await startEmbeddedEngine();
  [fleet, upstream] = await Promise.all([
    startServerFleet({ engineEndpoint: engine.endpoint, size: 2, config: { suspectIpFailures: 2 } }),
    startFakeUpstream({ latencyMs: 20 }),
  ]);
  // Before any request: the servers read the configuration when first asked.
  await linkUpstream(fleet.admin, upstream, { requestsPerSecond: 2 });
}, 60_000);
afterAll(async () => {
  await fleet?.close();
  await upstream?.close();
  await engine?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const randomEmail = () => `${randomBytes(6).toString('hex')}@example.com`;
const reachedUpstream = (email: string) => upstream.requestsTo('token').some((r) => r.body.username === email);

function login(serverUrl: string, ip: string, username: string, password: string) {
  const c = fleet.credentials.webClient;
  return postFormFrom(ip, serverUrl, '/oauth/token', {
    grant_type: PASSWORD_REALM_GRANT,
    realm: fleet.credentials.connection.name,
    client_id: c.client_id,
    client_secret: c.client_secret,
    username,
    password,
    scope: 'openid',
  });
}

describe('a suspect IP deferred at a busy budget costs two requests per login', () => {
  it('its logins for unknown identifiers are answered 429 with Retry-After from the identifier/IP read alone (plus the log line), never reaching the upstream', async () => {
    const [busyServer, floodedServer] = fleet.servers;
    for (let i = 0; i < 2; i++) expect((await login(floodedServer.url, SUSPECT_IP, randomEmail(), 'guess')).status).toBe(403);

    // Returning users keep the budget busy: 2 calls/s, two calls each.
    const users = Array.from({ length: 4 }, (_, i) => upstream.addUser({ email: `busy${i}-${randomBytes(4).toString('hex')}@example.com`, password: PASSWORD }));
    const legit = users.map((u) => login(busyServer.url, USERS_IP, u.email, PASSWORD).catch(() => undefined));
    while (!users.some((u) => reachedUpstream(u.email))) await sleep(10);
    // The flooded instance learns from the bucket that it is busy (one round trip).
    const first = await login(floodedServer.url, SUSPECT_IP, randomEmail(), 'guess');
    expect([first.status, first.body.error]).toEqual([429, 'too_many_requests']);

    const before = await floodedServer.stats();
    const guesses = [randomEmail(), randomEmail(), randomEmail()];
    for (const email of guesses) {
      const answer = await login(floodedServer.url, SUSPECT_IP, email, 'guess');
      expect([answer.status, answer.body.error]).toEqual([429, 'too_many_requests']);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    const after = await floodedServer.stats();

    // One read (the identifier's claim and the IP's failures together) and one write (the log line) each.
    expect(after.byOperation).toEqual({ ...before.byOperation, BatchGetItem: (before.byOperation.BatchGetItem ?? 0) + 3, BatchWriteItem: (before.byOperation.BatchWriteItem ?? 0) + 3 });
    expect(guesses.filter(reachedUpstream)).toEqual([]);
    await Promise.allSettled(legit);
  }, 60_000);
});
