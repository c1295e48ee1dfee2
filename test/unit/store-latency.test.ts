import { describe, expect, it } from 'vitest';
import { createStoreLatency } from '../../lambdas/store/store-latency.js';

describe('store latency', () => {
  it('weighs each ended request a tenth, counts those in flight, and fades while none ends', () => {
    let t = 0;
    const latency = createStoreLatency(() => t);
    const ends = Array.from({ length: 20 }, () => latency.started());
    t = 500;
    for (const end of ends) end();
    // Twenty requests of 500 ms each: 500 × (1 − 0.9^20).
    expect(latency.meanMs).toBeCloseTo(500 * (1 - 0.9 ** 20), 5);
    const before = latency.meanMs;
    t += 1000;
    expect(latency.meanMs).toBeCloseTo(before / 2, 5);
    // A quick request after the pause weighs on the faded mean.
    latency.started()();
    expect(latency.meanMs).toBeCloseTo((before / 2) * 0.9, 5);
  });
});
