/**
 * Token grants through the local HTTP server (same handlers as the Lambda, the embedded engine in
 * its own process):
 * median and p95 per grant, DynamoDB round trips per request (cold: tenant configuration not
 * cached; warm: cached for `configCacheMs`), and the share of the password grant spent in bcrypt
 * at the configured cost.
 *
 *   npm run bench            (all benches)
 *   npm run bench -- token   (only this one)
 */
import { availableParallelism, loadavg } from 'node:os';
import { startLocalServer, type LocalServer } from '../bin/local/server.js';
import { startEngineProcess } from './support/engine-process.js';
import { defaultServiceConfig } from '../lambdas/deps.js';
import { verifyPassword } from '../lambdas/identity/passwords.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createRoundTripCounter, type RoundTripCounter } from '../lambdas/store/dynamo-client.js';
import { percentile, round as roundTo } from './support/stats.js';

export interface BenchRow {
  [column: string]: string | number;
}

export interface BenchReport {
  name: string;
  rows: BenchRow[];
  notes?: string[];
  /** Each target with whether it was met. */
  targets?: { target: string; actual: string; met: boolean }[];
}

const SAMPLES = 200;
/** Stops sampling a grant early when the machine is slow, so the whole bench stays under 2 minutes. */
const BUDGET_MS = { password: 55_000, refresh: 15_000 };
const WARMUP = 10;
/** One bcrypt-only comparison after every BCRYPT_EVERY password grants. */
const BCRYPT_EVERY = 2;
const TARGETS = { refreshRoundTrips: 3, passwordRoundTrips: 4, nonBcryptShare: 0.15 };

const round = (n: number, digits = 2) => roundTo(n, digits);

async function post(server: LocalServer, form: Record<string, string>) {
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as Record<string, string>;
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${body.error}`);
  return body;
}

/** Round trips and per-operation counts of one call. */
async function countRoundTrips<T>(counter: RoundTripCounter, fn: () => Promise<T>) {
  const before = { count: counter.count, ops: { ...counter.byOperation } };
  const result = await fn();
  const ops: Record<string, number> = {};
  for (const [op, n] of Object.entries(counter.byOperation)) if (n - (before.ops[op] ?? 0) > 0) ops[op] = n - (before.ops[op] ?? 0);
  return { result, count: counter.count - before.count, ops };
}

async function timeSequential(samples: number, fn: () => Promise<void>, budgetMs = Infinity): Promise<number[]> {
  const times: number[] = [];
  const deadline = performance.now() + budgetMs;
  for (let i = 0; i < samples && performance.now() < deadline; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/**
 * Wall-clock time during which at least one DynamoDB request (the embedded engine here) is in
 * flight; parallel requests count once.
 */
function trackDatabaseTime(server: LocalServer) {
  const total = { ms: 0 };
  let inFlight = 0;
  let since = 0;
  server.deps.db.middlewareStack.add(
    (next) => async (args) => {
      if (inFlight++ === 0) since = performance.now();
      try {
        return await next(args);
      } finally {
        if (--inFlight === 0) total.ms += performance.now() - since;
      }
    },
    { step: 'initialize', name: 'benchDatabaseTime' },
  );
  return total;
}

const describeOps = (ops: Record<string, number>) =>
  Object.entries(ops)
    .map(([op, n]) => (n > 1 ? `${op}×${n}` : op))
    .join(' + ');

export async function runTokenGrantsBench(): Promise<BenchReport> {
  const counter = createRoundTripCounter();
  const bcryptCost = defaultServiceConfig.bcryptCost;
  // DynamoDB is a separate service: the engine runs in its own process, so its CPU time does not
  // compete with bcrypt in the measured one (in process it did, and counted as grant overhead).
  const engine = await startEngineProcess();
  const server = await startLocalServer({ counter, sink: createSilentSink(), config: { bcryptCost }, dynamoEndpoint: engine.endpoint });
  try {
    const c = server.credentials;
    const tenant = c.tenant;
    const web = { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret };
    const passwordForm = { grant_type: 'password', username: c.demoUser.email, password: c.demoUser.password, scope: 'openid profile email offline_access', ...web };
    const dropCaches = () => {
      server.deps.tenantConfigCache.invalidate(tenant);
      server.deps.domainCache.clear();
    };
    const dbTime = trackDatabaseTime(server);
    let refreshToken = '';
    const passwordGrant = async () => {
      refreshToken = (await post(server, passwordForm)).refresh_token;
    };
    const refreshGrant = async () => {
      refreshToken = (await post(server, { grant_type: 'refresh_token', refresh_token: refreshToken, ...web })).refresh_token;
    };

    // Warm-up: signing key, bcrypt, HTTP keep-alive, JIT.
    for (let i = 0; i < WARMUP; i++) {
      await passwordGrant();
      await refreshGrant();
    }

    dropCaches();
    const passwordCold = await countRoundTrips(counter, passwordGrant);
    const passwordWarm = await countRoundTrips(counter, passwordGrant);
    dropCaches();
    const refreshCold = await countRoundTrips(counter, refreshGrant);
    const refreshWarm = await countRoundTrips(counter, refreshGrant);

    // The password grant and bcrypt alone (at the configured cost, against the demo user's
    // stored hash) are measured interleaved, so both see the same machine load.
    const stored = await server.deps.users.getUserWithPassword(tenant, c.demoUser.user_id);
    const hash = stored.password!.hash!;
    const bcryptCompare = async () => {
      if (!(await verifyPassword(c.demoUser.password, hash))) throw new Error('bcrypt mismatch');
    };
    const passwordTimes: number[] = [];
    const bcryptTimes: number[] = [];
    const passwordCount = counter.count;
    const passwordDbStart = dbTime.ms;
    const passwordDeadline = performance.now() + BUDGET_MS.password;
    for (let i = 0; i < SAMPLES && performance.now() < passwordDeadline; i++) {
      passwordTimes.push(...(await timeSequential(1, passwordGrant)));
      if (i % BCRYPT_EVERY === 0) bcryptTimes.push(...(await timeSequential(1, bcryptCompare)));
    }
    const passwordTripsPerRequest = (counter.count - passwordCount) / passwordTimes.length;
    const passwordDbMs = (dbTime.ms - passwordDbStart) / passwordTimes.length;
    const refreshCount = counter.count;
    const refreshDbStart = dbTime.ms;
    const refreshTimes = await timeSequential(SAMPLES, refreshGrant, BUDGET_MS.refresh);
    const refreshTripsPerRequest = (counter.count - refreshCount) / refreshTimes.length;
    const refreshDbMs = (dbTime.ms - refreshDbStart) / refreshTimes.length;

    const passwordMedian = percentile(passwordTimes, 50);
    const bcryptMedian = percentile(bcryptTimes, 50);
    const nonBcrypt = (passwordMedian - bcryptMedian) / passwordMedian;
    const rows: BenchRow[] = [
      {
        grant: 'password',
        'median ms': round(passwordMedian),
        'p95 ms': round(percentile(passwordTimes, 95)),
        'round trips warm': passwordWarm.count,
        'round trips cold': passwordCold.count,
        'mean round trips (run)': round(passwordTripsPerRequest),
        'mean db ms': round(passwordDbMs),
        'warm operations': describeOps(passwordWarm.ops),
      },
      {
        grant: 'refresh_token',
        'median ms': round(percentile(refreshTimes, 50)),
        'p95 ms': round(percentile(refreshTimes, 95)),
        'round trips warm': refreshWarm.count,
        'round trips cold': refreshCold.count,
        'mean round trips (run)': round(refreshTripsPerRequest),
        'mean db ms': round(refreshDbMs),
        'warm operations': describeOps(refreshWarm.ops),
      },
      {
        grant: `bcrypt.compare (cost ${hashCost(hash)})`,
        'median ms': round(bcryptMedian),
        'p95 ms': round(percentile(bcryptTimes, 95)),
        'round trips warm': '-',
        'round trips cold': '-',
        'mean round trips (run)': '-',
        'mean db ms': '-',
        'warm operations': '-',
      },
    ];
    return {
      name: 'token grants',
      rows,
      notes: [
        `sequential requests after ${WARMUP} warm-up rounds: password ${passwordTimes.length}, refresh ${refreshTimes.length} (max ${SAMPLES} each, time-boxed); ${bcryptTimes.length} bcrypt-only comparisons interleaved with the password grants; node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(1)}`,
        `mean round trips (run) includes the tenant configuration reload every ${defaultServiceConfig.configCacheMs} ms; cold = tenant configuration and domain caches dropped: password ${describeOps(passwordCold.ops)}; refresh ${describeOps(refreshCold.ops)}`,
        `bcrypt share of the password grant (median): ${round((bcryptMedian / passwordMedian) * 100, 1)}%, non-bcrypt overhead ${round(nonBcrypt * 100, 1)}%, ` +
          `of which waiting for the engine (own process) ${round((passwordDbMs / passwordMedian) * 100, 1)}% (mean db ms) and everything else ${round(((passwordMedian - bcryptMedian - passwordDbMs) / passwordMedian) * 100, 1)}%`,
      ],
      targets: [
        { target: `refresh grant <= ${TARGETS.refreshRoundTrips} round trips (warm)`, actual: String(refreshWarm.count), met: refreshWarm.count <= TARGETS.refreshRoundTrips },
        { target: `password grant <= ${TARGETS.passwordRoundTrips} round trips (warm)`, actual: String(passwordWarm.count), met: passwordWarm.count <= TARGETS.passwordRoundTrips },
        {
          target: `non-bcrypt overhead of the password grant <= ${TARGETS.nonBcryptShare * 100}%`,
          actual: `${round(nonBcrypt * 100, 1)}%`,
          met: nonBcrypt <= TARGETS.nonBcryptShare,
        },
      ],
    };
  } finally {
    await server.close();
    await engine.close();
  }
}

/** The cost factor encoded in a bcrypt hash (`$2b$10$...`). */
function hashCost(hash: string): number {
  return Number(hash.split('$')[2]);
}

export const bench = { name: 'token-grants', run: runTokenGrantsBench };
