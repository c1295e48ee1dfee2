import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import {
  authEvents,
  closeUpstreamBreaker,
  createAdjustableClock,
  linkUpstream,
  loginWithAuth0Client,
  type LoginAttempt,
  type UpstreamLink,
} from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';

/** Short upstream limits keep the hanging cases quick: 800 ms per call, 1200 ms per login. */
const PER_CALL_TIMEOUT_MS = 800;
const BUDGET_MS = 1200;

let service: TestService;
let upstream: FakeUpstream;
let link: UpstreamLink;
let wrongPassword: LoginAttempt;
let seq = 0;
const clock = createAdjustableClock();
const uniqueEmail = (label: string) => `${label}.${Date.now().toString(36)}.${++seq}@example.com`;
const tokenCallsFor = (username: string) => upstream.requestsTo('token').filter((r) => r.body.username === username);

beforeAll(async () => {
  upstream = await startFakeUpstream();
  service = await startTestService({ now: clock.now, config: { bcryptCost: 4, upstreamTimeoutMs: PER_CALL_TIMEOUT_MS, upstreamBudgetMs: BUDGET_MS } });
  link = await linkUpstream(service, upstream);
  const { demoUser } = service.credentials;
  wrongPassword = await loginWithAuth0Client(service, demoUser.email, 'not-the-password');
});
afterAll(async () => {
  await service?.close();
  await upstream?.close();
});

interface FailureCase {
  kind: string;
  reason: string;
  /** Arranges the fault; returns the upstream user's password to log in with. */
  arrange(email: string): Promise<void> | void;
  password?: string;
}

const PASSWORD = 'Right-upstream-password';

const cases: FailureCase[] = [
  { kind: 'invalid_grant (wrong password)', reason: 'upstream_rejected:invalid_grant', arrange: () => {}, password: 'wrong' },
  {
    kind: 'mfa_required',
    reason: 'upstream_rejected:mfa_required',
    arrange: (email) => void upstream.addUser({ email, password: PASSWORD, mfa: true }),
  },
  {
    kind: 'unauthorized_client (grant not enabled upstream)',
    reason: 'upstream_rejected:unauthorized_client',
    arrange: async () => void (link = await linkUpstream(service, upstream, { grantTypes: ['refresh_token'] })),
  },
  {
    kind: 'access_denied (wrong upstream client secret)',
    reason: 'upstream_rejected:access_denied',
    arrange: async () => {
      link = await linkUpstream(service, upstream);
      upstream.addClient({ client_id: link.clientId, client_secret: 'a-different-secret' });
    },
  },
  {
    kind: 'too_many_attempts (the account is blocked upstream)',
    reason: 'upstream_rejected:too_many_attempts',
    arrange: (email) => upstream.blockAccount(email),
  },
  { kind: '500', reason: 'upstream_server_error', arrange: () => upstream.failNext('token', { status: 500 }) },
  { kind: '503 with an HTML body', reason: 'upstream_server_error', arrange: () => upstream.failNext('token', { status: 503 }) },
  { kind: 'hanging token endpoint', reason: 'upstream_timeout', arrange: () => upstream.failNext('token', { hang: true }) },
  { kind: 'slow token endpoint (beyond the per-call timeout)', reason: 'upstream_timeout', arrange: () => upstream.failNext('token', { delayMs: PER_CALL_TIMEOUT_MS + 500 }) },
  { kind: 'malformed JSON', reason: 'upstream_malformed_response', arrange: () => upstream.failNext('token', { malformed: true }) },
  {
    kind: 'network error (nothing listening)',
    reason: 'upstream_network_error',
    arrange: async () => void (link = await linkUpstream(service, upstream, { tokenEndpoint: 'http://127.0.0.1:9/oauth/token' })),
  },
  {
    kind: 'plain http to a non-loopback host',
    reason: 'upstream_insecure_endpoint',
    arrange: async () => void (link = await linkUpstream(service, upstream, { tokenEndpoint: 'http://auth.example.com/oauth/token' })),
  },
  { kind: 'userinfo failure', reason: 'upstream_userinfo_failed', arrange: () => upstream.failNext('userinfo', { status: 500 }) },
  { kind: 'hanging userinfo', reason: 'upstream_userinfo_failed', arrange: () => upstream.failNext('userinfo', { hang: true }) },
  {
    kind: 'open circuit',
    reason: 'upstream_circuit_open',
    arrange: () => {
      for (let i = 0; i < 5; i++) service.deps.breakers.recordFailure(link.breakerKey);
    },
  },
];

describe('every upstream failure answers exactly like a wrong password; the log keeps the real reason', () => {
  it.each(cases)('$kind → same 403 as a wrong password, logged as $reason', async (c) => {
    const email = uniqueEmail('fail');
    if (c.kind !== 'mfa_required') upstream.addUser({ email, password: PASSWORD });
    closeUpstreamBreaker(service, link);
    try {
      await c.arrange(email);

      const res = await loginWithAuth0Client(service, email, c.password ?? PASSWORD);

      expect({ status: res.status, body: res.body }).toEqual({ status: wrongPassword.status, body: wrongPassword.body });
      expect(authEvents(service, email)).toEqual([
        expect.objectContaining({ type: 'fp', reason: c.reason, migration: 'password_fallback' }),
      ]);
      const { tenant, connection } = service.credentials;
      expect((await service.deps.users.claimOf(keys.emailClaim(tenant, connection.id, email)))?.user_id).toBeUndefined();
    } finally {
      upstream.reset();
      link = await linkUpstream(service, upstream);
      closeUpstreamBreaker(service, link);
    }
  });

  it('no failure line carries the password or the upstream client secret', () => {
    const leaks = service.logLines.filter((l) => l.includes(PASSWORD) || l.includes(link.clientSecret));
    expect(leaks).toEqual([]);
  });

  it('upstream outages do not count toward the lockout: after four of them the right password still logs in', async () => {
    const email = uniqueEmail('outage');
    upstream.addUser({ email, password: PASSWORD });
    const faults = [{ status: 500 as const }, { status: 503 as const }, { malformed: true as const }, { status: 502 as const }];
    for (const fault of faults) {
      upstream.failNext('token', fault);
      expect((await loginWithAuth0Client(service, email, PASSWORD)).status).toBe(403);
    }

    const res = await loginWithAuth0Client(service, email, PASSWORD);

    expect(res.status).toBe(200);
    expect(tokenCallsFor(email)).toHaveLength(5);
  });

  it("a hanging upstream answers within the budget: a slow token call leaves the userinfo call only what is left of it, and the login cut short is told to retry (429), as one cut short before its password call, not answered as a wrong password", async () => {
    const email = uniqueEmail('budget');
    upstream.addUser({ email, password: PASSWORD });
    upstream.failNext('token', { delayMs: BUDGET_MS - 500 });
    upstream.failNext('userinfo', { hang: true });

    const res = await loginWithAuth0Client(service, email, PASSWORD);

    expect([res.status, res.error]).toEqual([429, 'too_many_requests']);
    const [event] = authEvents(service, email);
    expect(event).toMatchObject({ reason: 'upstream_userinfo_failed', details: { upstream_failure: 'budget_exhausted' } });
  });

  it("a login whose time ran out while the upstream checked its password is told to retry (429), not answered as a wrong password: the profile call never started, and it is no strike", async () => {
    const email = uniqueEmail('late');
    upstream.addUser({ email, password: PASSWORD });
    // The store was slow: the login's time is spent by the time the upstream answers.
    upstream.failNext('token', { delayMs: 50, during: () => clock.advance(BUDGET_MS) });
    const profileCalls = () => upstream.requests.filter((r) => r.endpoint === 'userinfo').length;
    const before = profileCalls();

    const late = await loginWithAuth0Client(service, email, PASSWORD);

    expect([late.status, late.error]).toEqual([429, 'too_many_requests']);
    expect(authEvents(service, email)).toEqual([
      expect.objectContaining({ type: 'fp', reason: 'upstream_userinfo_failed', details: expect.objectContaining({ upstream_failure: 'budget_exhausted' }) }),
    ]);
    expect(profileCalls()).toBe(before);
    expect((await loginWithAuth0Client(service, email, PASSWORD)).status).toBe(200);
  });

  it('a rate limit on the profile call after the upstream accepted the password is no strike: past the lockout limit of them, the right password still logs in', async () => {
    const email = uniqueEmail('profile-limited');
    upstream.addUser({ email, password: PASSWORD });
    const maxAttempts = 3; // the dev tenant's brute-force protection
    for (let i = 0; i < maxAttempts; i++) {
      upstream.failNext('userinfo', { status: 429, ambiguous: true });
      const limited = await loginWithAuth0Client(service, email, PASSWORD);
      expect([limited.status, limited.error]).toEqual([429, 'too_many_requests']);
      clock.advance(3_001); // past the pause the bare 429 set (at most 3 s for a 429 that says nothing)
    }
    expect(authEvents(service, email).map((e) => e.reason)).toEqual(Array(maxAttempts).fill('upstream_userinfo_failed'));

    const res = await loginWithAuth0Client(service, email, PASSWORD);

    expect(res.status).toBe(200);
    expect(authEvents(service, email).filter((e) => e.type === 'limit_wc')).toEqual([]);
  });

  it("a login whose own time runs out before the upstream answers (its time went waiting on a busy day) is answered 429 with Retry-After, not as a wrong password, and is no strike", async () => {
    const hurried = await startTestService({ config: { bcryptCost: 4, upstreamTimeoutMs: PER_CALL_TIMEOUT_MS, upstreamBudgetMs: 700 } });
    try {
      await linkUpstream(hurried, upstream);
      const email = uniqueEmail('out-of-time');
      upstream.addUser({ email, password: PASSWORD });
      upstream.failNext('token', { hang: true });

      const res = await loginWithAuth0Client(hurried, email, PASSWORD);

      expect([res.status, res.error]).toEqual([429, 'too_many_requests']);
      expect(authEvents(hurried, email)).toEqual([expect.objectContaining({ reason: 'upstream_budget_exhausted', details: expect.objectContaining({ upstream_failure: 'budget_exhausted' }) })]);
      expect((await loginWithAuth0Client(hurried, email, PASSWORD)).status).toBe(200);
    } finally {
      await hurried.close();
      upstream.reset();
      link = await linkUpstream(service, upstream);
    }
  });

  it('the upstream global limit is no wrong password: 429 too_many_requests with Retry-After, no strike, and the login succeeds after it', async () => {
    const email = uniqueEmail('global');
    upstream.addUser({ email, password: PASSWORD });
    upstream.failNext('token', { status: 429, retryAfter: 1 });

    const limited = await loginWithAuth0Client(service, email, PASSWORD);

    expect(limited.status).toBe(429);
    expect(limited.error).toBe('too_many_requests');
    expect(authEvents(service, email)).toEqual([expect.objectContaining({ type: 'fp', reason: 'upstream_rate_limited', migration: 'password_fallback' })]);
    const { tenant, connection } = service.credentials;
    const counter = await service.deps.db.send(new GetCommand({ TableName: service.deps.tableName, Key: keys.lockout(tenant, connection.id, email) }));
    expect(counter.Item?.failures ?? 0).toBe(0);
    clock.advance(2_100); // past X-RateLimit-Reset (whole seconds)
    expect((await loginWithAuth0Client(service, email, PASSWORD)).status).toBe(200);
  });
});
