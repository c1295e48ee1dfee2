import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSilentSink } from '../../lambdas/logs/log-sink.js';
import { createRequestWrites } from '../../lambdas/logs/request-writes.js';
import { createBatchWriter } from '../../lambdas/store/batch-writer.js';
import { keys } from '../../lambdas/store/keys.js';
import { createLogsRepository } from '../../lambdas/store/logs-repository.js';
import { shardCounts } from '../../lambdas/store/shards.js';
import { useStoreEngine } from '../support/store-engine.js';

/**
 * The auth log spread over several partitions per tenant and day, read back merged by log id,
 * together with events still in the single day partition of earlier versions.
 */
const TABLE = 'logs-shards-test';
const TENANT = 'acme';
const HOUR = 3_600_000;
const store = useStoreEngine(TABLE);
const written: { log_id: string; type: string }[] = [];
const now = Date.UTC(2026, 10, 20, 12);

beforeAll(async () => {
  // 90 events over three days, through the request log as requests write them.
  for (let i = 0; i < 90; i++) {
    const at = now - 2 * 24 * HOUR + i * HOUR * 0.5;
    const log = createRequestWrites({ batchWriter: createBatchWriter(store.db, TABLE), sink: createSilentSink(), now: () => at, tenant: TENANT });
    const e = log.add({ type: i % 3 === 0 ? 'f' : 's', user_id: `auth0|u${i % 5}` });
    await log.flush();
    written.push({ log_id: e.log_id, type: e.type });
  }
  // 10 events a version without shards wrote, in the day partition (same days).
  for (let i = 0; i < 10; i++) {
    const at = now - 2 * 24 * HOUR + i * HOUR * 4 + 1;
    const logId = ulid(at);
    const date = new Date(at).toISOString();
    await store.db.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: keys.logDay(TENANT, date.slice(0, 10)), sk: logId, log_id: logId, type: 'seacft', date, tenant: TENANT, ttl: 4_000_000_000 },
      }),
    );
    written.push({ log_id: logId, type: 'seacft' });
  }
  written.sort((a, b) => a.log_id.localeCompare(b.log_id));
});

const repo = () => createLogsRepository(store.db, TABLE);

describe('logs sharded per tenant and day', () => {
  it('a day of events is written to several partition keys, none holding most of them', async () => {
    const day = new Date(now - 24 * HOUR).toISOString().slice(0, 10);
    const counts: number[] = [];
    for (let shard = 0; shard < shardCounts.logs; shard++) {
      const res = await store.db.send(
        new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': keys.logDayShard(TENANT, day, shard) } }),
      );
      counts.push(res.Count ?? 0);
    }
    const total = counts.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(20);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThanOrEqual(shardCounts.logs / 2);
    expect(Math.max(...counts) / total).toBeLessThan(0.25);
  });

  it('lists newest first across shards, days and the unsharded partition, in log id order', async () => {
    const listed = await repo().list(TENANT, {}, 1000, now);
    expect(listed.map((e) => e.log_id)).toEqual(written.map((e) => e.log_id).reverse());
  });

  it('lists oldest first, and a smaller max is the head of the same order (paging)', async () => {
    const all = (await repo().list(TENANT, {}, 1000, now, true)).map((e) => e.log_id);
    expect(all).toEqual(written.map((e) => e.log_id));
    const first = (await repo().list(TENANT, {}, 37, now, true)).map((e) => e.log_id);
    expect(first).toEqual(all.slice(0, 37));
  });

  it('filters by type across shards, in order', async () => {
    const failures = await repo().list(TENANT, { types: ['f', 'seacft'] }, 1000, now);
    expect(failures.map((e) => e.log_id)).toEqual(written.filter((e) => e.type !== 's').map((e) => e.log_id).reverse());
  });

  it('checkpoint paging (from/take) walks every event once, oldest first', async () => {
    const seen: string[] = [];
    let from = written[0].log_id;
    seen.push(from);
    for (;;) {
      const page = await repo().after(TENANT, from, 7, now);
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.log_id));
      from = page[page.length - 1].log_id;
    }
    expect(seen).toEqual(written.map((e) => e.log_id));
  });

  it('finds one event by id in its shard and in the unsharded partition', async () => {
    const sharded = written.find((e) => e.type === 's')!;
    const legacy = written.find((e) => e.type === 'seacft')!;
    expect((await repo().get(TENANT, sharded.log_id, now))?.log_id).toBe(sharded.log_id);
    expect((await repo().get(TENANT, legacy.log_id, now))?.log_id).toBe(legacy.log_id);
    expect(await repo().get(TENANT, ulid(now), now)).toBeUndefined();
  });
});
