import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartitionKeyCounter, deliberatelySingleKeys, type HotKeyReport } from '../../lambdas/store/partition-key-counter.js';
import { burstFallbackMigrations, burstLogins, burstRefreshes, burstUserCreations, seedLocalUsers } from '../support/bursts.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * The hot-key check: bursts of many different users through every write path of flip day and
 * of an import, over real HTTP, with the DynamoDB client counting requests per partition key
 * (table and index keys). No key may take more than MAX_SHARE of a burst's writes: a key that
 * takes a fixed share of every request caps a tenant near 1,000 writes per second on it.
 * Keys single on purpose are excepted by name (`deliberatelySingleKeys`, e.g. token buckets).
 */
const USERS = 100;
const MAX_SHARE = 0.05;

const counter = createPartitionKeyCounter();
let service: TestService;
let upstream: FakeUpstream;
let emails: string[] = [];
let refreshTokens: string[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  service = await startTestService({ partitionKeys: counter });
  emails = await seedLocalUsers(service, USERS);
});
afterAll(async () => {
  await service?.close();
  await upstream?.close();
});

/** Runs the burst with a fresh count and gives the write report. */
async function writesOf(burst: () => Promise<number>): Promise<HotKeyReport> {
  counter.reset();
  expect(await burst()).toBe(0);
  return counter.report('write');
}

function expectNoHotKey(report: HotKeyReport) {
  expect(report.total).toBeGreaterThan(USERS);
  const names = new Set(deliberatelySingleKeys.map((k) => k.name));
  for (const name of Object.keys(report.excepted)) expect(names.has(name)).toBe(true);
  const busiest = report.busiest!;
  expect(busiest.share, `${busiest.key} took ${busiest.count} of ${report.total} writes`).toBeLessThanOrEqual(MAX_SHARE);
}

describe(`no write path sends more than ${MAX_SHARE * 100}% of a burst of ${USERS} users to one key`, () => {
  it('password logins (logs, login statistics, lockouts, refresh tokens)', async () => {
    expectNoHotKey(
      await writesOf(async () => {
        const out = await burstLogins(service, emails);
        refreshTokens = out.refreshTokens;
        return out.failed;
      }),
    );
  });

  it('refresh grants (rotation and logs)', async () => {
    expect(refreshTokens.length).toBe(USERS);
    expectNoHotKey(await writesOf(() => burstRefreshes(service, refreshTokens)));
  });

  it('first logins migrating through the password fallback (users, listing index, counters, logs)', async () => {
    await linkUpstream(service, upstream);
    expectNoHotKey(await writesOf(() => burstFallbackMigrations(service, upstream, USERS)));
  });

  it('an import through POST /api/v2/users (users, listing index, management logs)', async () => {
    expectNoHotKey(await writesOf(() => burstUserCreations(service, USERS)));
  });
});
