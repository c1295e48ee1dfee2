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
import { startLocalServer } from '../bin/local/server.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createPartitionKeyCounter } from '../lambdas/store/partition-key-counter.js';
import { startFakeUpstream } from '../test/support/fake-upstream.js';
import { linkUpstream } from '../test/support/import-mode.js';
import { burstFallbackMigrations, burstLogins, burstRefreshes, burstUserCreations, seedLocalUsers } from '../test/support/bursts.js';
import type { BenchReport, BenchRow } from './token-grants.js';
import { hotKeyRow } from './support/hot-keys.js';
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
