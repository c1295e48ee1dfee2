import { describe, expect, it } from 'vitest';
import { createFailureTiming } from '../../lambdas/identity/failure-timing.js';

/** What local failures in import mode are padded to (the bench measures the resulting gap). */
describe('failure timing', () => {
  it('pads to the median of the recent upstream rejections of that connection, nothing before any', () => {
    const timing = createFailureTiming();
    expect(timing.typicalUpstreamFailureMs('t/con_a')).toBe(0);
    for (const ms of [120, 80, 100, 5000, 90]) timing.recordUpstreamFailure('t/con_a', ms);
    expect(timing.typicalUpstreamFailureMs('t/con_a')).toBe(100);
    expect(timing.typicalUpstreamFailureMs('t/con_b')).toBe(0);
  });

  it('keeps the last 31 samples, caps the padding at 3 s, and can be turned off', () => {
    const timing = createFailureTiming();
    for (let i = 0; i < 40; i++) timing.recordUpstreamFailure('k', 10_000);
    expect(timing.typicalUpstreamFailureMs('k')).toBe(3000);
    for (let i = 0; i < 31; i++) timing.recordUpstreamFailure('k', 50);
    expect(timing.typicalUpstreamFailureMs('k')).toBe(50);
    timing.setPadding(false);
    expect(timing.typicalUpstreamFailureMs('k')).toBe(0);
  });
});
