import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { authEvents, createAdjustableClock, linkUpstream, loginWithAuth0Client } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';

/** The breaker's defaults (lambdas/migration/circuit-breaker.ts): 5 consecutive failures, 30 s cool-down. */
const FAILURE_THRESHOLD = 5;
const COOL_DOWN_MS = 30_000;
const PASSWORD = 'Right-upstream-password';

let service: TestService;
let upstream: FakeUpstream;
let clock: ReturnType<typeof createAdjustableClock>;
let seq = 0;
const uniqueEmail = (label: string) => `${label}.${Date.now().toString(36)}.${++seq}@example.com`;
const newUpstreamUser = (label: string) => upstream.addUser({ email: uniqueEmail(label), password: PASSWORD }).email;

beforeEach(async () => {
  clock = createAdjustableClock();
  upstream = await startFakeUpstream();
  service = await startTestService({ now: clock.now });
  await linkUpstream(service, upstream);
});
afterEach(async () => {
  await service?.close();
  await upstream?.close();
});

describe('circuit breaker of the connection upstream', () => {
  it('opens after repeated upstream failures (fails fast without calling), and closes again after the cool-down', async () => {
    for (let i = 0; i < FAILURE_THRESHOLD; i++) {
      upstream.failNext('token', { status: 500 });
      expect((await loginWithAuth0Client(service, newUpstreamUser('failing'), PASSWORD)).status).toBe(403);
    }
    const callsWhenOpened = upstream.requestsTo('token').length;

    const whileOpen = newUpstreamUser('while-open');
    expect((await loginWithAuth0Client(service, whileOpen, PASSWORD)).status).toBe(403);
    expect(upstream.requestsTo('token').length).toBe(callsWhenOpened);
    expect(authEvents(service, whileOpen)).toEqual([expect.objectContaining({ reason: 'upstream_circuit_open', migration: 'password_fallback' })]);

    clock.advance(COOL_DOWN_MS + 1);
    expect((await loginWithAuth0Client(service, whileOpen, PASSWORD)).status).toBe(200);
    expect((await loginWithAuth0Client(service, newUpstreamUser('after-close'), PASSWORD)).status).toBe(200);
    expect(upstream.requestsTo('token').length).toBe(callsWhenOpened + 2);
  });

  it('an upstream global-limit 429 pauses calls to that upstream until its reset, answered 429 with Retry-After meanwhile, and no longer', async () => {
    upstream.failNext('token', { status: 429, retryAfter: 20 });
    const limited = await loginWithAuth0Client(service, newUpstreamUser('limited'), PASSWORD);
    expect([limited.status, limited.error]).toEqual([429, 'too_many_requests']);

    const paused = newUpstreamUser('paused');
    clock.advance(15_000); // 5 s before the reset: more than a login waits for its call
    expect((await loginWithAuth0Client(service, paused, PASSWORD)).status).toBe(429);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    expect(authEvents(service, paused)).toEqual([expect.objectContaining({ reason: 'upstream_budget_exhausted' })]);

    clock.advance(5_001);
    expect((await loginWithAuth0Client(service, paused, PASSWORD)).status).toBe(200);
    expect(upstream.requestsTo('token')).toHaveLength(2);
  });
});
