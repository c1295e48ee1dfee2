import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_REALM_GRANT } from '../../lambdas/migration/upstream-client.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { postFormFrom } from '../support/from-ip.js';
import { linkUpstream } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Logins from a client IP with recent failures (someone trying random emails) come last at the
 * upstream budget: legitimate logins and re-mints first. Auth0's suspicious-IP throttling is
 * untouched (100 failures by default); `suspectIpFailures` is 2 here so the test stays short.
 */
const SUSPECT_IP = '127.0.0.3';
const USERS_IP = '127.0.0.4';
const PASSWORD = 'Upstream-pw-1';
let service: TestService;
let upstream: FakeUpstream;

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService({ config: { bcryptCost: 4, suspectIpFailures: 2 } }), startFakeUpstream()]);
  await linkUpstream(service, upstream, { requestsPerSecond: 2 });
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const upstreamUser = (label: string) => upstream.addUser({ email: `${label}-${randomBytes(4).toString('hex')}@example.com`, password: PASSWORD });

function login(ip: string, username: string, password: string) {
  const c = service.credentials;
  return postFormFrom(ip, service.url, '/oauth/token', {
    grant_type: PASSWORD_REALM_GRANT,
    realm: c.connection.name,
    client_id: c.webClient.client_id,
    client_secret: c.webClient.client_secret,
    username,
    password,
    scope: 'openid',
  });
}

const reachedUpstream = (email: string) => upstream.requestsTo('token').some((r) => r.body.username === email);

describe('an IP with recent failures comes last at the upstream budget', () => {
  it('while the budget is busy with other logins, its login is answered 429 with Retry-After without reaching the upstream; when idle, it goes through', async () => {
    for (let i = 0; i < 2; i++) {
      const guess = await login(SUSPECT_IP, `${randomBytes(6).toString('hex')}@example.com`, 'guess');
      expect(guess.status).toBe(403);
    }
    const users = Array.from({ length: 4 }, (_, i) => upstreamUser(`busy${i}`));
    const behindSuspectIp = upstreamUser('shared-ip');

    const legit = users.map((u) => login(USERS_IP, u.email, PASSWORD));
    while (!users.some((u) => reachedUpstream(u.email))) await sleep(10);
    const suspect = await login(SUSPECT_IP, behindSuspectIp.email, PASSWORD);

    expect([suspect.status, suspect.body.error]).toEqual([429, 'too_many_requests']);
    expect(Number(suspect.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(reachedUpstream(behindSuspectIp.email)).toBe(false);
    // The others were served first (the first of them at least; the rest within their wait).
    expect((await Promise.all(legit)).map((a) => a.status)).toContain(200);

    // The bucket drains (at 2 calls/s, a few seconds): then the same IP's right password gets in.
    await sleep(Math.max(1, Number(suspect.headers['retry-after'])) * 1000);
    let answer = await login(SUSPECT_IP, behindSuspectIp.email, PASSWORD);
    for (let i = 0; i < 5 && answer.status === 429; i++) {
      await sleep(Math.max(1, Number(answer.headers['retry-after'])) * 1000);
      answer = await login(SUSPECT_IP, behindSuspectIp.email, PASSWORD);
    }
    expect(answer.status).toBe(200);
  }, 60_000);
});
