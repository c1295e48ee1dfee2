import { describe, expect, it } from 'vitest';
import { createPartitionKeyCounter } from '../../lambdas/store/partition-key-counter.js';

describe('partition key counter (the hot-key check)', () => {
  it('reports the busiest write key, its share of all writes and its peak within one second', () => {
    const counter = createPartitionKeyCounter();
    for (let i = 0; i < 6; i++) counter.record('write', 'HOT', 1_000 + i * 100); // 6 in second 1
    counter.record('write', 'HOT', 5_000);
    for (let i = 0; i < 3; i++) counter.record('write', `COLD#${i}`, 1_000);
    counter.record('read', 'READ', 1_000);

    const report = counter.report('write');
    expect(report.total).toBe(10);
    expect(report.distinctKeys).toBe(4);
    expect(report.busiest).toEqual({ key: 'HOT', count: 7, share: 0.7, peakPerSecond: 6 });
    expect(counter.report('read').busiest?.key).toBe('READ');
  });

  it('leaves deliberately single keys out of the share and names them', () => {
    const counter = createPartitionKeyCounter();
    for (let i = 0; i < 50; i++) counter.record('write', 'TENANT#t#UPSTREAM#tenant.eu.auth0.com', 1_000);
    counter.record('write', 'A', 1_000);
    counter.record('write', 'B', 1_000);

    const report = counter.report('write');
    expect(report.total).toBe(2);
    expect(report.busiest?.share).toBe(0.5);
    expect(report.excepted).toEqual({ 'upstream call budget': 50 });
  });

  it('starts over after reset', () => {
    const counter = createPartitionKeyCounter();
    counter.record('write', 'A');
    counter.reset();
    expect(counter.report('write')).toMatchObject({ total: 0, busiest: undefined });
  });
});
