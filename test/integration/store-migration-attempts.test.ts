import { describe, expect, it } from 'vitest';
import { createMigrationCountersRepository } from '../../lambdas/store/migration-counters-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/** The drain's table side: attempts by path and outcome per day, and the last upstream verification. */
const TABLE = 'attempts-test';
const store = useStoreEngine(TABLE);

describe('migration attempts', () => {
  it('sum per day, path and outcome over the shards, and never leak into the per-path migration counts', async () => {
    const repo = createMigrationCountersRepository(store.db, TABLE);
    await Promise.all([
      ...Array.from({ length: 30 }, () => repo.countAttempt('t1', '2026-11-01', 'password_fallback', 'migrated')),
      ...Array.from({ length: 7 }, () => repo.countAttempt('t1', '2026-11-01', 'password_fallback', 'upstream_rejected')),
      repo.countAttempt('t1', '2026-11-02', 'refresh_remint', 'not_called'),
      repo.increment('t1', '2026-11-01', 'password_fallback'),
    ]);
    const days = await repo.attemptsOfDays('t1', ['2026-11-01', '2026-11-02', '2026-11-03']);
    expect(Object.fromEntries(days)).toEqual({
      '2026-11-01': { password_fallback: { migrated: 30, upstream_rejected: 7 } },
      '2026-11-02': { refresh_remint: { not_called: 1 } },
      '2026-11-03': {},
    });
    expect(await repo.get('t1', '2026-11-01')).toEqual({ password_fallback: 1 });
  });

  it('an attempt counted with its migration (`alsoMigrated`) adds to both sums in one write', async () => {
    const repo = createMigrationCountersRepository(store.db, TABLE);
    await Promise.all([
      ...Array.from({ length: 4 }, () => repo.countAttempt('t3', '2026-11-01', 'refresh_remint', 'migrated', { alsoMigrated: true })),
      repo.countAttempt('t3', '2026-11-01', 'refresh_remint', 'migrated'),
    ]);
    expect(Object.fromEntries(await repo.attemptsOfDays('t3', ['2026-11-01']))).toEqual({ '2026-11-01': { refresh_remint: { migrated: 5 } } });
    expect(await repo.get('t3', '2026-11-01')).toEqual({ refresh_remint: 4 });
  });

  it('keep the latest upstream verification over every shard, whatever order the writes land in', async () => {
    let next = 0;
    const shardsInTurn = createMigrationCountersRepository(store.db, TABLE, 16, () => (next++ % 16) / 16);
    expect(await shardsInTurn.lastUpstreamVerification('t2')).toBeUndefined();
    const times = [5000, 9000, 1000, 7000, 9000 - 1];
    for (const at of times) await shardsInTurn.recordUpstreamVerification('t2', at === 9000 ? 'refresh_remint' : 'password_fallback', at);
    await shardsInTurn.recordUpstreamVerification('t2', 'password_fallback', 2000); // earlier: changes nothing
    expect(await shardsInTurn.lastUpstreamVerification('t2')).toEqual({ at: 9000, path: 'refresh_remint' });
  });

  it('a process records the same path of a tenant at most once in 5 s; another path, or the same 5 s later, is written', async () => {
    const repo = createMigrationCountersRepository(store.db, TABLE);
    await repo.recordUpstreamVerification('t4', 'refresh_remint', 10_000);
    await repo.recordUpstreamVerification('t4', 'refresh_remint', 12_000);
    expect(await repo.lastUpstreamVerification('t4')).toEqual({ at: 10_000, path: 'refresh_remint' });
    await repo.recordUpstreamVerification('t4', 'password_fallback', 12_500);
    expect(await repo.lastUpstreamVerification('t4')).toEqual({ at: 12_500, path: 'password_fallback' });
    await repo.recordUpstreamVerification('t4', 'refresh_remint', 13_000);
    expect(await repo.lastUpstreamVerification('t4')).toEqual({ at: 13_000, path: 'refresh_remint' });
    await repo.recordUpstreamVerification('t4', 'refresh_remint', 18_000);
    expect(await repo.lastUpstreamVerification('t4')).toEqual({ at: 18_000, path: 'refresh_remint' });
  });
});
