import * as z from 'zod/mini';
import type { MigrationPath } from '../logs/log-types.js';
import { MIGRATION_OUTCOMES, UPSTREAM_VERIFIED_OUTCOMES, type MigrationOutcome } from '../logs/migration-outcome.js';
import type { MigrationAttemptCounts } from '../store/migration-counters-repository.js';
import type { Deps } from '../deps.js';
import { ok, type ManagementEndpoint, type ManagementRequest } from './endpoint.js';
import { managementErrors } from './errors.js';
import { parseQuery } from './request.js';

const DAY_MS = 24 * 3600 * 1000;
const MAX_DAYS = 400;
const DEFAULT_DAYS = 30;
const PATHS: readonly MigrationPath[] = ['password_fallback', 'refresh_remint', 'social', 'password_reset'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const statsQuery = z.strictObject({
  /** First day (UTC, `YYYY-MM-DD`); default 29 days before `to`. */
  from: z.optional(z.string().check(z.regex(DATE, 'Expected a date YYYY-MM-DD'))),
  /** Last day (UTC, `YYYY-MM-DD`); default today. */
  to: z.optional(z.string().check(z.regex(DATE, 'Expected a date YYYY-MM-DD'))),
});

type PathCounts = Record<MigrationOutcome, number>;
const zeroCounts = (): PathCounts => Object.fromEntries(MIGRATION_OUTCOMES.map((o) => [o, 0])) as PathCounts;

function dayOf(text: string, name: string): number {
  const at = Date.parse(`${text}T00:00:00.000Z`);
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== text) {
    throw managementErrors.invalidQuery(`'Expected a date YYYY-MM-DD' on property ${name}.`);
  }
  return at;
}

/**
 * `GET /api/v2/stats/migration`: the drain figures from the table's counters, for operators
 * without CloudWatch and for the local server. Per day, path and outcome, plus the last time the
 * upstream verified a user; `upstream_verifications` per day is the dashboard's headline line.
 */
export const statsEndpoints = {
  migration: {
    scopes: ['read:stats'],
    async run(req: ManagementRequest<Pick<Deps, 'importCounters' | 'now' | 'migrationCounters'>>) {
      const q = parseQuery(statsQuery, req.event);
      const now = req.deps.now();
      const to = q.to ? dayOf(q.to, 'to') : dayOf(new Date(now).toISOString().slice(0, 10), 'to');
      const from = q.from ? dayOf(q.from, 'from') : to - (DEFAULT_DAYS - 1) * DAY_MS;
      if (from > to) throw managementErrors.invalidQuery(`'from must not be after to' on property from.`);
      if ((to - from) / DAY_MS + 1 > MAX_DAYS) throw managementErrors.invalidQuery(`'At most ${MAX_DAYS} days' on property from.`);

      const { tenant } = req.ctx;
      const counters = req.deps.migrationCounters;
      const dayNames: string[] = [];
      for (let at = from; at <= to; at += DAY_MS) dayNames.push(new Date(at).toISOString().slice(0, 10));
      const [perDay, last, imported] = await Promise.all([
        counters.attemptsOfDays(tenant, dayNames),
        counters.lastUpstreamVerification(tenant),
        req.deps.importCounters.read(tenant),
      ]);

      const totals = Object.fromEntries(PATHS.map((p) => [p, zeroCounts()])) as Record<MigrationPath, PathCounts>;
      const days = dayNames.map((date) => {
        const counts: MigrationAttemptCounts = perDay.get(date) ?? {};
        const paths = Object.fromEntries(
          PATHS.map((path) => {
            const row = { ...zeroCounts(), ...counts[path] };
            for (const outcome of MIGRATION_OUTCOMES) totals[path][outcome] += row[outcome];
            return [path, row];
          }),
        ) as Record<MigrationPath, PathCounts>;
        return { date, upstream_verifications: verificationsOf(paths), ...paths };
      });
      return ok({
        from: dayNames[0],
        to: dayNames.at(-1),
        last_upstream_verification: last ? { date: new Date(last.at).toISOString(), path: last.path } : null,
        days_since_last_upstream_verification: last ? Math.floor((now - last.at) / DAY_MS) : null,
        totals: { upstream_verifications: verificationsOf(totals), ...totals },
        // Bulk imports since the start (not per day): who has not signed in since would depend on
        // a reset, or on the upstream, at switch-off.
        imported: {
          users: imported.imported,
          signed_in_since_import: imported.signed_in_since_import,
          not_signed_in_since_import: Math.max(0, imported.imported - imported.signed_in_since_import),
        },
        days,
      });
    },
  },
} satisfies Record<string, ManagementEndpoint>;

/** Successful upstream verifications: what must stay at zero before the upstream is switched off. */
function verificationsOf(paths: Record<MigrationPath, PathCounts>): number {
  return PATHS.reduce((sum, path) => sum + UPSTREAM_VERIFIED_OUTCOMES.reduce((s, o) => s + paths[path][o], 0), 0);
}
