import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { createMigrationCountersRepository } from '../../lambdas/store/migration-counters-repository.js';
import { createPartitionKeyCounter, countPartitionKeys } from '../../lambdas/store/partition-key-counter.js';
import { shardCounts } from '../../lambdas/store/shards.js';
import { useStoreEngine } from '../support/store-engine.js';

/** Migration counters spread over shards and summed on read, with the unsharded item of earlier versions. */
const TABLE = 'counters-test';
const store = useStoreEngine(TABLE);
const hotKeys = createPartitionKeyCounter();

beforeAll(async () => {
  countPartitionKeys(store.db, hotKeys);
});

describe('migration counters', () => {
  it('200 concurrent increments of one day spread over the shards and sum to 200', async () => {
    const repo = createMigrationCountersRepository(store.db, TABLE);
    hotKeys.reset();
    await Promise.all(Array.from({ length: 200 }, (_, i) => repo.increment('t1', '2026-11-20', i % 2 ? 'password_fallback' : 'refresh_remint')));
    expect(await repo.get('t1', '2026-11-20')).toEqual({ password_fallback: 100, refresh_remint: 100 });
    const writes = hotKeys.report('write');
    expect(writes.distinctKeys).toBe(shardCounts.migrationCounters);
    expect(writes.busiest!.share).toBeLessThan(0.2);
  });

  it('adds the single item written before shards to the day it counts', async () => {
    const repo = createMigrationCountersRepository(store.db, TABLE);
    await store.db.send(new PutCommand({ TableName: TABLE, Item: { ...keys.migrationCounters('t2', '2026-11-21'), password_fallback: 40 } }));
    await repo.increment('t2', '2026-11-21', 'password_fallback', 2);
    expect(await repo.get('t2', '2026-11-21')).toEqual({ password_fallback: 42 });
  });

  it('sums several days at once, beyond one BatchGet, each day apart; a day without events is empty', async () => {
    const repo = createMigrationCountersRepository(store.db, TABLE);
    const days = Array.from({ length: 10 }, (_, i) => `2026-10-${String(i + 10).padStart(2, '0')}`);
    for (const [i, day] of days.entries()) if (i % 2 === 0) await repo.increment('t3', day, 'refresh_remint', i + 1);
    const sums = await repo.sumDays('t3', days);
    expect([...sums.entries()]).toEqual(days.map((day, i) => [day, i % 2 === 0 ? { refresh_remint: i + 1 } : {}]));
  });
});
