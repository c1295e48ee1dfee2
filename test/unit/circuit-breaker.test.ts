import { describe, expect, it } from 'vitest';
import { createBreakerRegistry } from '../../lambdas/migration/circuit-breaker.js';
import { createDeadline } from '../../lambdas/migration/deadline.js';

function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe('deadline', () => {
  it('counts the remaining budget down with the injected clock and never below zero', () => {
    const clock = manualClock();
    const deadline = createDeadline(1000, clock.now);
    expect(deadline.remainingMs()).toBe(1000);
    expect(deadline.expired()).toBe(false);
    clock.advance(400);
    expect(deadline.remainingMs()).toBe(600);
    clock.advance(600);
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.expired()).toBe(true);
    clock.advance(5000);
    expect(deadline.remainingMs()).toBe(0);
  });

  it('is expired from the start when the budget is zero', () => {
    expect(createDeadline(0, manualClock().now).expired()).toBe(true);
  });
});

describe('circuit breaker', () => {
  it('stays closed below the failure threshold', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ failureThreshold: 3, coolDownMs: 10_000, now: clock.now });
    breakers.recordFailure('src');
    breakers.recordFailure('src');
    expect(breakers.check('src')).toEqual({ open: false });
  });

  it('opens after N consecutive failures and reports the remaining cool-down', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ failureThreshold: 3, coolDownMs: 10_000, now: clock.now });
    for (let i = 0; i < 3; i++) breakers.recordFailure('src');
    expect(breakers.check('src')).toEqual({ open: true, retryAfterMs: 10_000, reason: 'failures' });
    clock.advance(4000);
    expect(breakers.check('src')).toEqual({ open: true, retryAfterMs: 6000, reason: 'failures' });
  });

  it('counts only consecutive failures: a success in between resets the count', () => {
    const breakers = createBreakerRegistry({ failureThreshold: 3, now: manualClock().now });
    breakers.recordFailure('src');
    breakers.recordFailure('src');
    breakers.recordSuccess('src');
    breakers.recordFailure('src');
    breakers.recordFailure('src');
    expect(breakers.check('src').open).toBe(false);
  });

  it('keeps keys independent', () => {
    const breakers = createBreakerRegistry({ failureThreshold: 1, now: manualClock().now });
    breakers.recordFailure('con_a');
    expect(breakers.check('con_a').open).toBe(true);
    expect(breakers.check('con_b').open).toBe(false);
  });

  it('lets exactly one trial call through after the cool-down (half-open)', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ failureThreshold: 1, coolDownMs: 10_000, now: clock.now });
    breakers.recordFailure('src');
    clock.advance(10_000);
    expect(breakers.check('src')).toEqual({ open: false });
    const second = breakers.check('src');
    expect(second.open).toBe(true);
  });

  it('closes again when the half-open trial succeeds', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ failureThreshold: 2, coolDownMs: 10_000, now: clock.now });
    breakers.recordFailure('src');
    breakers.recordFailure('src');
    clock.advance(10_000);
    expect(breakers.check('src').open).toBe(false);
    breakers.recordSuccess('src');
    expect(breakers.check('src').open).toBe(false);
    expect(breakers.check('src').open).toBe(false);
    // and needs the full threshold again to reopen
    breakers.recordFailure('src');
    expect(breakers.check('src').open).toBe(false);
  });

  it('reopens for a full cool-down when the half-open trial fails', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ failureThreshold: 5, coolDownMs: 10_000, now: clock.now });
    for (let i = 0; i < 5; i++) breakers.recordFailure('src');
    clock.advance(10_000);
    expect(breakers.check('src').open).toBe(false);
    breakers.recordFailure('src');
    expect(breakers.check('src')).toEqual({ open: true, retryAfterMs: 10_000, reason: 'failures' });
  });

  it('gives the trial back when the caller released it without calling', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ failureThreshold: 1, coolDownMs: 10_000, now: clock.now });
    breakers.recordFailure('src');
    clock.advance(10_000);
    expect(breakers.check('src').open).toBe(false);
    breakers.release('src');
    expect(breakers.check('src').open).toBe(false);
  });

  it('does not stay wedged when a trial never reports back', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ failureThreshold: 1, coolDownMs: 10_000, now: clock.now });
    breakers.recordFailure('src');
    clock.advance(10_000);
    expect(breakers.check('src').open).toBe(false);
    expect(breakers.check('src').open).toBe(true);
    clock.advance(10_000);
    expect(breakers.check('src').open).toBe(false);
  });

  it('pauses for exactly the Retry-After time on pauseFor, with reason rate_limited', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ coolDownMs: 30_000, now: clock.now });
    breakers.pauseFor('src', 3000);
    expect(breakers.check('src')).toEqual({ open: true, retryAfterMs: 3000, reason: 'rate_limited' });
    clock.advance(2999);
    expect(breakers.check('src')).toEqual({ open: true, retryAfterMs: 1, reason: 'rate_limited' });
    clock.advance(1);
    expect(breakers.check('src').open).toBe(false);
  });

  it('uses the documented defaults: 5 failures, 30 s cool-down', () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ now: clock.now });
    for (let i = 0; i < 4; i++) breakers.recordFailure('src');
    expect(breakers.check('src').open).toBe(false);
    breakers.recordFailure('src');
    expect(breakers.check('src')).toEqual({ open: true, retryAfterMs: 30_000, reason: 'failures' });
  });
});
