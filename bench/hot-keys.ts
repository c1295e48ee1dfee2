/**
 * Hot keys under bursts of many different users, as on flip day and during a bulk import:
 * logins, refreshes, first logins migrating through the password fallback, and Management API
 * creations. For each burst: the busiest partition key (table or index) by writes, its share of
 * all the burst's writes and its peak per second. One key taking a fixed share of every request
 * caps a tenant at about 1,000 writes per second on that key, whatever else scales.
 *
 *   npm run bench -- hot-keys                 (BURST=400 users per burst by default)
 *   BURST=2000 npm run bench -- hot-keys
 *
 * bcrypt runs at cost 4: this bench counts keys, not time (the req/s column is this machine's).
 */
import { monotonicFactory } from 'ulid';
import { startLocalServer } from '../bin/local/server.js';
import { newDatabaseUserId } from '../lambdas/identity/create-user.js';
import { logPartitionOf } from '../lambdas/store/logs-repository.js';
import { usersListingKeyOf } from '../lambdas/store/users-index.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createPartitionKeyCounter, type PartitionKeyCounter } from '../lambdas/store/partition-key-counter.js';
import { startFakeUpstream } from '../test/support/fake-upstream.js';
import { linkUpstream } from '../test/support/import-mode.js';
import { burstFallbackMigrations, burstLogins, burstRefreshes, burstUserCreations, seedLocalUsers } from '../test/support/bursts.js';
import type { BenchReport, BenchRow } from './token-grants.js';
import { hotKeyRow, keyShape } from './support/hot-keys.js';
import { startEngineProcess } from './support/engine-process.js';

const BURST = Number(process.env.BURST ?? 400);

export const bench = {
  name: 'hot-keys',
  async run(): Promise<BenchReport> {
    const counter = createPartitionKeyCounter();
    const engine = await startEngineProcess();
    const upstream = await startFakeUpstream();
    const server = await startLocalServer({
      partitionKeys: counter,
      sink: createSilentSink(),
      config: { bcryptCost: 4 },
      dynamoEndpoint: engine.endpoint,
    });
    const rows: BenchRow[] = [];
    try {
      const emails = await seedLocalUsers(server, BURST);
      let refreshTokens: string[] = [];
      rows.push(
        await hotKeyRow(counter, 'password logins', BURST, async () => {
          const out = await burstLogins(server, emails);
          refreshTokens = out.refreshTokens;
          return out.failed;
        }),
      );
      rows.push(await hotKeyRow(counter, 'refreshes', refreshTokens.length, () => burstRefreshes(server, refreshTokens)));
      await linkUpstream(server, upstream);
      rows.push(await hotKeyRow(counter, 'fallback migrations', BURST, () => burstFallbackMigrations(server, upstream, BURST)));
      rows.push(await hotKeyRow(counter, 'import (POST /users)', BURST, () => burstUserCreations(server, BURST)));
    } finally {
      await server.close();
      await upstream.close();
      await engine.close();
    }
    return {
      name: 'hot-keys',
      rows,
      notes: [
        `${BURST} different users per burst, 16 requests in flight; keys shown with the tenant as "t".`,
        'share: the busiest key\'s writes over all the burst\'s writes (table and index keys); peak/s: its most writes within one second here.',
        'writes per request x a tenant\'s requests per second = that key\'s write rate; at ~1,000/s per key DynamoDB throttles.',
      ],
    };
  },
};

const IMPORT_USERS = Number(process.env.IMPORT_USERS ?? 100_000);

/**
 * The keys a 100,000-user import through `POST /api/v2/users` writes, computed with the
 * service's own key functions for generated user ids and log ids at a steady 1,000 users per
 * second (not sent to the engine: the burst above measures the same path over HTTP). Per user:
 * its email claim, its user item and password (one partition), its listing index entry, and one
 * `sapi` event. Before sharding the last two were one key per tenant (and day).
 */
export async function benchImportKeyModel(): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  const nextUlid = monotonicFactory();
  const start = Date.UTC(2026, 10, 20, 12);
  const model = (sharded: boolean): PartitionKeyCounter => {
    const counter = createPartitionKeyCounter();
    for (let i = 0; i < IMPORT_USERS; i++) {
      const at = start + i; // 1,000 users per second
      const userId = newDatabaseUserId();
      const logId = nextUlid(at);
      counter.record('write', `TENANT#t#CONN#c#EMAIL#user${i}@example.com`, at);
      counter.record('write', `TENANT#t#USER#${userId}`, at);
      counter.record('write', `TENANT#t#USER#${userId}`, at);
      counter.record('write', `gsi1:${sharded ? usersListingKeyOf('t', userId).gsi1pk : 'TENANT#t#USERS'}`, at);
      counter.record('write', sharded ? logPartitionOf('t', new Date(at).toISOString().slice(0, 10), logId) : `TENANT#t#LOG#${new Date(at).toISOString().slice(0, 10)}`, at);
    }
    return counter;
  };
  for (const sharded of [false, true]) {
    const writes = model(sharded).report('write');
    const busiest = writes.busiest!;
    rows.push({
      layout: sharded ? 'sharded (now)' : 'one key per tenant (before)',
      users: IMPORT_USERS,
      writes: writes.total,
      'busiest write key': keyShape(busiest.key),
      'its share': `${(busiest.share * 100).toFixed(2)}%`,
      'its peak/s at 1,000 users/s': busiest.peakPerSecond,
    });
  }
  return { name: 'import key model', rows, notes: ['Computed from the key functions, not measured against the engine.'] };
}
