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

  it('an upstream 429 with Retry-After pauses calls to that upstream for that long', async () => {
    upstream.failNext('token', { status: 429, retryAfter: 20 });
    expect((await loginWithAuth0Client(service, newUpstreamUser('limited'), PASSWORD)).status).toBe(403);

    const paused = newUpstreamUser('paused');
    clock.advance(19_000);
    expect((await loginWithAuth0Client(service, paused, PASSWORD)).status).toBe(403);
    expect(upstream.requestsTo('token')).toHaveLength(1);
    expect(authEvents(service, paused)).toEqual([expect.objectContaining({ reason: 'upstream_circuit_open' })]);

    clock.advance(1_001);
    expect((await loginWithAuth0Client(service, paused, PASSWORD)).status).toBe(200);
    expect(upstream.requestsTo('token')).toHaveLength(2);
  });
});
