/**
 * Flip day: the service as three local server processes sharing one engine (standing in for
 * Lambda instances), reached at once by clients holding Auth0 refresh tokens and by returning
 * users logging in for the first time, against the fake upstream Auth0 with a global limit and
 * 50 ms per call. Clients behave like Auth0's SDKs: a 429 or 503 is retried after its
 * Retry-After. Run once with an attacker IP sending random-email logins at 20/s throughout, and
 * once without.
 *
 *   npm run bench -- flip-day   (300 refresh tokens and 60 first logins: larger runs overload the one embedded engine on 2 shared cores, see the README)
 *   FLIP_REMINTS=5000 FLIP_LOGINS=500 npm run bench -- flip-day   (the issue's size)
 *   FLIP_LIMIT_S=...   (when a run stops; default six times the floor at the configured rate, at least 120 s)
 *   FLEET_LOG=1 ...   (the servers' log lines on stdout)
 *   FLIP_ATTACKER=0 ...   (the run without the attacker only)
 *   FLIP_SUSPECT=0 ...   (logins from an IP with recent failures keep their place at the budget: the attacker's calls compete with everyone's)
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { PASSWORD_REALM_GRANT } from '../lambdas/migration/upstream-client.js';
import { startFakeUpstream, type FakeUpstream } from '../test/support/fake-upstream.js';
import { linkUpstream } from '../test/support/import-mode.js';
import { addMigrationSource } from '../test/support/migration-source.js';
import { startServerFleet, type Fleet, type FleetServerStats } from '../test/support/server-fleet.js';
import { startEngineProcess } from './support/engine-process.js';
import { median, p95, round } from './support/stats.js';
import type { BenchReport } from './token-grants.js';

const REMINTS = Number(process.env.FLIP_REMINTS ?? 300);
const LOGINS = Number(process.env.FLIP_LOGINS ?? 60);
const SERVERS = 3;
const UPSTREAM_LIMIT = 50;
const UPSTREAM_LATENCY_MS = 50;
/** 80 % of the upstream's limit, as the docs advise. */
const CONFIGURED_RATE = 40;
const ATTACKER_PER_SECOND = 20;
/** Clients arrive over this long (flip day compressed: everyone comes back within seconds). */
const ARRIVAL_SPREAD_MS = 10_000;
/** A run stops here; clients still without tokens count as lost. */
const RUN_LIMIT_MS = Number(process.env.FLIP_LIMIT_S ?? Math.max(120, Math.ceil((6 * (REMINTS + 2 * LOGINS)) / CONFIGURED_RATE))) * 1000;
/** The service's `suspectIpFailures` (default: the service's own, 10). */
const SUSPECT_IP_FAILURES = process.env.FLIP_SUSPECT === undefined ? undefined : Number(process.env.FLIP_SUSPECT);
const PASSWORD = 'Flip-day-password-1';
const SCOPE = 'openid profile email offline_access';

interface Answer {
  status: number;
  retryAfter: number;
  /** The OAuth `error` of a refusal (for the report of lost sessions). */
  error?: string;
}

/** POSTs a form over node:http from a given local address (the client's IP as the service sees it). */
function postForm(agent: Agent, url: string, form: Record<string, string>, localAddress: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString();
    const req = request(url, { method: 'POST', agent, localAddress, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let error: string | undefined;
        if (status !== 200) {
          try {
            error = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string }).error);
          } catch {
            error = 'unreadable';
          }
        }
        resolve({ status, retryAfter: Number(res.headers['retry-after'] ?? 0), error });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ClientOutcome {
  ok: boolean;
  /** A final refusal (a dead refresh token, a wrong-password answer), not a run that ended first. */
  refused?: boolean;
  waitMs: number;
  attempts: number;
  /** The last answer that was not a success (`status error`). */
  last?: string;
}

/** An SDK-like client: retries a 429/503 after its Retry-After until it gets an answer or the run ends. */
async function sdkClient(send: () => Promise<Answer>, endsAt: number, refusals?: Map<string, number>): Promise<ClientOutcome> {
  const started = performance.now();
  let attempts = 0;
  for (;;) {
    attempts += 1;
    let answer: Answer;
    try {
      answer = await send();
    } catch {
      answer = { status: 503, retryAfter: 1, error: 'connection_failed' };
    }
    if (answer.status === 200) return { ok: true, waitMs: performance.now() - started, attempts };
    const last = `${answer.status} ${answer.error ?? ''}`;
    refusals?.set(last, (refusals.get(last) ?? 0) + 1);
    if (answer.status !== 429 && answer.status !== 503) return { ok: false, refused: true, waitMs: performance.now() - started, attempts, last };
    const delay = Math.max(1, answer.retryAfter) * 1000;
    if (performance.now() + delay > endsAt) return { ok: false, waitMs: performance.now() - started, attempts, last };
    await sleep(delay);
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function sumStats(all: FleetServerStats[]) {
  return all.reduce(
    (acc, s) => ({
      count: acc.count + s.count,
      budgetRoundTrips: acc.budgetRoundTrips + s.budget.roundTrips,
      leases: acc.leases + s.budget.leases,
      leasedCalls: acc.leasedCalls + s.budget.leasedCalls,
      refusals: acc.refusals + s.budget.refusals,
    }),
    { count: 0, budgetRoundTrips: 0, leases: 0, leasedCalls: 0, refusals: 0 },
  );
}

async function flipDayRun(withAttacker: boolean) {
  const engine = await startEngineProcess();
  const upstream: FakeUpstream = await startFakeUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
  let fleet: Fleet | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 200 });
  try {
    fleet = await startServerFleet({ engineEndpoint: engine.endpoint, size: SERVERS, config: SUSPECT_IP_FAILURES === undefined ? undefined : { suspectIpFailures: SUSPECT_IP_FAILURES } });
    const admin = fleet.admin;
    await linkUpstream(admin, upstream, { requestsPerSecond: CONFIGURED_RATE });
    const { clientId } = await addMigrationSource(admin, upstream, { requestsPerSecond: CONFIGURED_RATE, profile_from: 'id_token' });
    const web = fleet.credentials.webClient;
    const realm = fleet.credentials.connection.name;
    const refreshTokens = Array.from({ length: REMINTS }, (_, i) => {
      const user = upstream.addUser({ email: `remint-${i}-${randomBytes(3).toString('hex')}@example.com`, password: PASSWORD });
      return upstream.issueRefreshToken({ sub: user.sub, client_id: clientId, scope: SCOPE });
    });
    const loginEmails = Array.from({ length: LOGINS }, (_, i) => upstream.addUser({ email: `login-${i}-${randomBytes(3).toString('hex')}@example.com`, password: PASSWORD }).email);
    const servers = fleet.servers;
    const before = sumStats(await Promise.all(servers.map((s) => s.stats())));
    upstream.reset(); // counts from here on; keeps users, clients and tokens
    upstream.setLatency(UPSTREAM_LATENCY_MS);
    upstream.setGlobalLimit(UPSTREAM_LIMIT);

    const loadAtStart = loadavg()[0];
    const startedAt = performance.now();
    const endsAt = startedAt + RUN_LIMIT_MS;
    const wallStart = Date.now();
    let done = false;
    let attackerSent = 0;
    const attackerAnswers = new Map<string, number>();
    const attackerMs: number[] = [];
    const attacker = (async () => {
      while (withAttacker && !done && performance.now() < endsAt) {
        const email = `${randomBytes(8).toString('hex')}@example.com`;
        const sentAt = performance.now();
        void postForm(agent, `${servers[attackerSent % SERVERS].url}/oauth/token`, { grant_type: PASSWORD_REALM_GRANT, realm, client_id: web.client_id, client_secret: web.client_secret, username: email, password: 'guess', scope: 'openid' }, '127.0.0.2')
          .then((a) => {
            const key = `${a.status} ${a.error ?? ''}`;
            attackerAnswers.set(key, (attackerAnswers.get(key) ?? 0) + 1);
            attackerMs.push(performance.now() - sentAt);
          })
          .catch(() => {});
        attackerSent += 1;
        await sleep(1000 / ATTACKER_PER_SECOND);
      }
    })();

    // Every retryable answer the clients got on the way (not only the last), by status and error.
    const remintRefusals = new Map<string, number>();
    const loginRefusals = new Map<string, number>();
    const remints = refreshTokens.map(async (token, i) => {
      await sleep(Math.random() * ARRIVAL_SPREAD_MS);
      const url = `${servers[i % SERVERS].url}/oauth/token`;
      return sdkClient(() => postForm(agent, url, { grant_type: 'refresh_token', client_id: web.client_id, client_secret: web.client_secret, refresh_token: token }, '127.0.0.1'), endsAt, remintRefusals);
    });
    const logins = loginEmails.map(async (email, i) => {
      await sleep(Math.random() * ARRIVAL_SPREAD_MS);
      const url = `${servers[(i + 1) % SERVERS].url}/oauth/token`;
      return sdkClient(() => postForm(agent, url, { grant_type: PASSWORD_REALM_GRANT, realm, client_id: web.client_id, client_secret: web.client_secret, username: email, password: PASSWORD, scope: 'openid' }, '127.0.0.1'), endsAt, loginRefusals);
    });
    // FLIP_TIMELINE=1: per second of the run, legitimate upstream calls, the attacker's, and sessions finished.
    const finishedAt: number[] = [];
    for (const p of [...remints, ...logins]) void p.then((o) => o.ok && finishedAt.push(performance.now() - startedAt));
    const outcomes = { remint: await Promise.all(remints), login: await Promise.all(logins) };
    const drainMs = performance.now() - startedAt;
    const loadAtEnd = loadavg()[0];
    done = true;
    if (withAttacker) await attacker;
    const afterAll = await Promise.all(servers.map((s) => s.stats()));
    const after = sumStats(afterAll);

    const perSecond = [...upstream.callsPerSecond().entries()].filter(([second]) => second * 1000 >= wallStart - 1000);
    const busiest = Math.max(0, ...perSecond.map(([, n]) => n));
    // What the busiest second's calls were (token and /userinfo calls, as the limit counts them).
    const busiestAt = perSecond.find(([, n]) => n === busiest)?.[0];
    const kindOf = (r: (typeof upstream.requests)[number]) =>
      r.endpoint === 'userinfo' ? 'userinfo' : r.body.grant_type === PASSWORD_REALM_GRANT ? (r.body.username?.startsWith('login-') ? 'login' : 'attacker') : r.body.grant_type ?? r.endpoint;
    const busiestKinds = countBy(upstream.requests.filter((r) => busiestAt !== undefined && Math.floor(r.at / 1000) === busiestAt && (r.endpoint === 'token' || r.endpoint === 'userinfo')).map(kindOf));
    if (process.env.FLIP_TIMELINE === '1') console.log(timelineOf(upstream, wallStart, finishedAt));
    const all = [...outcomes.remint, ...outcomes.login];
    const succeeded = all.filter((o) => o.ok);
    const callsNeeded = REMINTS + 2 * LOGINS; // id_token: one call per re-mint; token + /userinfo per login
    const migrations = succeeded.length;
    return {
      load: `${round(loadAtStart, 1)}→${round(loadAtEnd, 1)}`,
      sessionsLost: all.filter((o) => o.refused).length,
      lostAs: countBy([...outcomes.remint.filter((o) => !o.ok).map((o) => `re-mint ${o.last ?? '?'}`), ...outcomes.login.filter((o) => !o.ok).map((o) => `login ${o.last ?? '?'}`)]),
      attackerAnswers: Object.fromEntries(attackerAnswers),
      refusalsOnTheWay: { remint: Object.fromEntries(remintRefusals), login: Object.fromEntries(loginRefusals) },
      attackerP50Ms: attackerMs.length ? median(attackerMs) : 0,
      unfinished: all.filter((o) => !o.ok && !o.refused).length,
      upstream429s: upstream.globalLimitRefusals(),
      busiestSecond: busiest,
      busiestKinds,
      drainS: drainMs / 1000,
      floorS: callsNeeded / UPSTREAM_LIMIT,
      floorAtConfiguredS: callsNeeded / CONFIGURED_RATE,
      waitP50S: median(succeeded.map((o) => o.waitMs)) / 1000,
      waitP95S: p95(succeeded.map((o) => o.waitMs)) / 1000,
      remintWaitP50S: median(outcomes.remint.filter((o) => o.ok).map((o) => o.waitMs)) / 1000,
      loginWaitP95S: p95(outcomes.login.filter((o) => o.ok).map((o) => o.waitMs)) / 1000,
      attemptsPerClient: all.reduce((n, o) => n + o.attempts, 0) / all.length,
      upstreamCalls: upstream.requests.filter((r) => r.endpoint === 'token' || r.endpoint === 'userinfo').length,
      attackerRequests: withAttacker ? attackerSent : 0,
      attackerCalls: upstream.requests.filter((r) => r.endpoint === 'token' && r.body.grant_type === PASSWORD_REALM_GRANT && !r.body.username?.startsWith('login-')).length,
      dynamoPerMigration: (after.count - before.count) / Math.max(1, migrations),
      budgetPerMigration: (after.budgetRoundTrips - before.budgetRoundTrips) / Math.max(1, migrations),
      budgetShare: (after.budgetRoundTrips - before.budgetRoundTrips) / Math.max(1, after.count - before.count),
      callsPerLease: (after.leasedCalls - before.leasedCalls) / Math.max(1, after.leases - before.leases),
      budgetRefusals: after.refusals - before.refusals,
    };
  } finally {
    agent.destroy();
    await fleet?.close();
    await upstream.close();
    await engine.close();
  }
}

/** Seconds of the run: upstream calls (logins, re-mints, the attacker's) and sessions finished in each. */
function timelineOf(upstream: FakeUpstream, wallStart: number, finishedAt: number[]): string {
  const rows: string[] = ['s  calls(login/remint/userinfo/attacker)  finished'];
  const last = Math.ceil(Math.max(0, ...finishedAt) / 1000);
  for (let s = 0; s <= last; s++) {
    const inSecond = upstream.requests.filter((r) => Math.floor((r.at - wallStart) / 1000) === s && (r.endpoint === 'token' || r.endpoint === 'userinfo'));
    const kind = (k: string) => inSecond.filter((r) => (r.endpoint === 'userinfo' ? 'userinfo' : r.body.grant_type === PASSWORD_REALM_GRANT ? (r.body.username?.startsWith('login-') ? 'login' : 'attacker') : 'remint') === k).length;
    rows.push(`${String(s).padStart(2)} ${String(inSecond.length).padStart(3)} (${kind('login')}/${kind('remint')}/${kind('userinfo')}/${kind('attacker')})  ${finishedAt.filter((f) => Math.floor(f / 1000) === s).length}`);
  }
  return rows.join('\n');
}

export const bench = {
  name: 'flip-day',
  async run(): Promise<BenchReport> {
    // FLIP_ATTACKER=0: the run without the attacker only (large sizes take minutes per run).
    const quietOnly = process.env.FLIP_ATTACKER === '0';
    const attacked = quietOnly ? undefined : await flipDayRun(true);
    const quiet = await flipDayRun(false);
    const row = (label: string, r: Awaited<ReturnType<typeof flipDayRun>>) => ({
      run: label,
      'load (1 min)': r.load,
      'sessions lost': r.sessionsLost,
      'unfinished at limit': r.unfinished,
      'upstream 429s': r.upstream429s,
      'busiest s (limit 50)': r.busiestSecond,
      'drain s': round(r.drainS),
      'floor s': round(r.floorS),
      'drain/floor': round(r.drainS / r.floorS, 2),
      'wait p50 s': round(r.waitP50S),
      'wait p95 s': round(r.waitP95S),
      'login p95 s': round(r.loginWaitP95S),
      'tries/client': round(r.attemptsPerClient, 2),
      'DynamoDB/migration': round(r.dynamoPerMigration, 1),
      'bucket/migration': round(r.budgetPerMigration, 2),
      'calls/lease': round(r.callsPerLease, 2),
    });
    return {
      name: 'flip-day',
      rows: [...(attacked ? [row(`attacker ${ATTACKER_PER_SECOND}/s`, attacked)] : []), row('no attacker', quiet)],
      ...reportOf(attacked ?? quiet, quiet),
    };
  },
};

/** The notes and targets; with the attacker's run left out, `attacked` is the quiet run. */
function reportOf(attacked: Awaited<ReturnType<typeof flipDayRun>>, quiet: Awaited<ReturnType<typeof flipDayRun>>): Pick<BenchReport, 'notes' | 'targets'> {
  return {
    notes: [
        `${REMINTS} upstream refresh tokens (profile_from id_token: 1 upstream call each) and ${LOGINS} first password logins (token + /userinfo),`,
        `arriving over ${ARRIVAL_SPREAD_MS / 1000} s at ${SERVERS} server processes sharing one engine (in its own process); bcrypt cost 4.`,
        `Fake upstream: global limit ${UPSTREAM_LIMIT} calls per calendar second, ${UPSTREAM_LATENCY_MS} ms per call; rate_limit ${CONFIGURED_RATE}/s on the connection and the source (one bucket).`,
        `Floor = upstream calls needed (${REMINTS + 2 * LOGINS}) / ${UPSTREAM_LIMIT}; at the configured ${CONFIGURED_RATE}/s it is ${round((REMINTS + 2 * LOGINS) / CONFIGURED_RATE)} s.`,
        `Sessions lost: refresh tokens refused (invalid_grant) or logins answered 403; unfinished: clients still retrying when the run stopped at ${RUN_LIMIT_MS / 1000} s.`,
        `Attacker run: ${attacked.attackerRequests} random-email logins from 127.0.0.2, ${attacked.attackerCalls} of them reached the upstream; suspicious-IP throttling stops the IP after 100 failures,`,
        `and from its ${SUSPECT_IP_FAILURES ?? 10}th failure on its logins come last at the budget (suspectIpFailures${SUSPECT_IP_FAILURES === 0 ? ' = 0: off' : ''}).`,
        `Attacker's answers: ${JSON.stringify(attacked.attackerAnswers)}, median ${round(attacked.attackerP50Ms)} ms.`,
        ...(attacked.sessionsLost + attacked.unfinished + quiet.sessionsLost + quiet.unfinished > 0 ? [`Not finished (last answer): ${JSON.stringify(attacked.lostAs)} / ${JSON.stringify(quiet.lostAs)}.`] : []),
        `Busiest second's calls by kind: ${JSON.stringify(attacked.busiestKinds)} / ${JSON.stringify(quiet.busiestKinds)}.`,
        `Answers on the way (every retryable answer, attacker run / run without): ${JSON.stringify(attacked.refusalsOnTheWay)} / ${JSON.stringify(quiet.refusalsOnTheWay)}.`,
        `DynamoDB/migration counts every request of the servers (attacker's included) per successful migration; bucket/migration those on the budget item`,
        `(${round(attacked.budgetShare * 100)} % / ${round(quiet.budgetShare * 100)} % of all requests); ${attacked.budgetRefusals} / ${quiet.budgetRefusals} re-mint refusals.`,
      ],
      targets: [
        { target: 'sessions lost = 0', actual: `${attacked.sessionsLost} / ${quiet.sessionsLost}`, met: attacked.sessionsLost === 0 && quiet.sessionsLost === 0 },
        { target: 'upstream 429s = 0', actual: `${attacked.upstream429s} / ${quiet.upstream429s}`, met: attacked.upstream429s === 0 && quiet.upstream429s === 0 },
        { target: `busiest second ≤ ${UPSTREAM_LIMIT}`, actual: `${attacked.busiestSecond} / ${quiet.busiestSecond}`, met: Math.max(attacked.busiestSecond, quiet.busiestSecond) <= UPSTREAM_LIMIT },
        { target: 'drain with attacker within 10 % of without', actual: `${round(attacked.drainS)} s vs ${round(quiet.drainS)} s (${attacked.drainS >= quiet.drainS ? '+' : ''}${round((attacked.drainS / quiet.drainS - 1) * 100)} %)`, met: attacked.drainS <= quiet.drainS * 1.1 },
      ],
  };
}
