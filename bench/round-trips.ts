/**
 * DynamoDB round trips per flow, and a re-mint's own cost over its upstream floor.
 *
 * Through the local HTTP server (the engine in its own process, as DynamoDB is a separate
 * service), for the password grant (a user's first login; a user who signed in before, in a
 * process that has not seen them; a repeat login in the same process), the refresh grant and a
 * refresh-token re-mint (one migration
 * source, `profile_from` "userinfo" and "id_token", a fake upstream adding a fixed latency to
 * every call):
 * - requests: DynamoDB requests the flow sends before its answer (and after it, if any);
 * - sequential round trips: the longest chain of those requests each starting after the previous
 *   one ended, i.e. what the answer waits for in turn (parallel requests count once); a request
 *   that ends while an upstream call is in flight is hidden behind it and not counted; "own" leaves
 *   out the upstream call budget's bucket (one take per upstream call, before it);
 * - own cost (re-mint): median latency minus the median of the same upstream calls made directly;
 *   of it, the time the engine itself spent serving the flow's requests (timed in its process);
 * - store alone (re-mint): the requests the answer waited for, sent again with nothing else
 *   around them (their order and overlaps kept): the floor the store sets under the own cost.
 *
 *   npm run bench -- round-trips
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalServer, type LocalServer } from '../bin/local/server.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createRoundTripCounter, type RoundTripCounter, type RoundTripSpan } from '../lambdas/store/dynamo-client.js';
import { startFakeUpstream, type FakeUpstream } from '../test/support/fake-upstream.js';
import { addMigrationSource, removeMigrationSource } from '../test/support/migration-source.js';
import { startEngineProcess, type EngineProcess } from './support/engine-process.js';
import { recordStoreRequests, replayStoreRequests, type RecordedRequest, type StoreRecorder } from './support/store-replay.js';
import { median, postForm, round } from './support/stats.js';
import type { BenchReport, BenchRow } from './token-grants.js';

const UPSTREAM_LATENCY_MS = 20;
const SAMPLES = Number(process.env.ROUND_TRIP_SAMPLES ?? 25);
const WARMUP = 3;
const SCOPE = 'openid profile email offline_access';
const TARGETS = { remintSequential: 4, refreshSequential: 2, passwordRequests: 4, remintOwnCostMs: 10 };

/** What the upstream call budget reads and writes: one bucket item per upstream (`…#UPSTREAM#<host>`). */
const isBudgetBucket = (s: RoundTripSpan) => /#UPSTREAM#/.test(s.pk ?? '');

/**
 * The DynamoDB requests the answer waits for: those not ending while an upstream call (`upstream`
 * spans) is in flight; the longest chain of them, each starting after the previous one ended.
 */
export function waitedRoundTrips(spans: RoundTripSpan[], upstream: RoundTripSpan[]): number {
  const hidden = (s: RoundTripSpan) => upstream.some((u) => u.startMs <= s.endMs && s.endMs <= u.endMs);
  return longestSequentialChain(spans.filter((s) => !hidden(s)));
}

/** The longest chain of spans each starting at or after the previous one's end. */
export function longestSequentialChain(spans: RoundTripSpan[]): number {
  const sorted = [...spans].sort((a, b) => a.endMs - b.endMs);
  const depth: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let best = 0;
    for (let j = 0; j < i; j++) if (sorted[j].endMs <= sorted[i].startMs) best = Math.max(best, depth[j]);
    depth.push(best + 1);
  }
  return Math.max(0, ...depth);
}

interface FlowSample {
  ms: number;
  /** `ms` less the time an upstream call of this very sample was in flight (the sample's own cost). */
  ownMs: number;
  /** Of `ownMs`, the time at least one DynamoDB request was in flight (and no upstream call). */
  storeMs: number;
  /** Of `ownMs`, the time the engine itself was serving one of them (from its arrival to its answer, in the engine's process). */
  engineMs: number;
  requests: number;
  after: number;
  sequential: number;
  own: number;
  ops: string;
}

/** The service's calls to upstreams, timed (the fetch the local server is given). */
function timedFetch(spans: RoundTripSpan[]): typeof fetch {
  return async (input, init) => {
    const startMs = performance.now();
    try {
      return await fetch(input, init);
    } finally {
      spans.push({ op: 'upstream', startMs, endMs: performance.now() });
    }
  };
}

/** Runs one request of a flow and reads what it cost in DynamoDB requests. */
async function measure(counter: RoundTripCounter, upstreamSpans: RoundTripSpan[], engine: EngineProcess, run: () => Promise<void>): Promise<FlowSample> {
  const spans = counter.spans!;
  spans.length = 0;
  upstreamSpans.length = 0;
  const started = performance.now();
  await run();
  const answered = performance.now();
  // Requests still in flight after the answer end shortly after it.
  await new Promise((r) => setTimeout(r, 30));
  const before = spans.filter((s) => s.startMs >= started && s.startMs < answered);
  const after = spans.filter((s) => s.startMs >= answered);
  const served = (await engine.servedSince(started)).map((s) => ({ op: 'engine', startMs: Math.max(s.startMs, started), endMs: Math.min(s.endMs, answered) })).filter((s) => s.endMs > s.startMs);
  if (TRACE) lastTrace = traceOf(started, answered, [...before, ...after, ...upstreamSpans]);
  const ops: Record<string, number> = {};
  for (const s of before) ops[s.op] = (ops[s.op] ?? 0) + 1;
  return {
    ms: answered - started,
    ownMs: answered - started - busyMs(upstreamSpans),
    storeMs: busyMs([...before, ...upstreamSpans]) - busyMs(upstreamSpans),
    engineMs: busyMs([...served, ...upstreamSpans]) - busyMs(upstreamSpans),
    requests: before.length,
    after: after.length,
    sequential: waitedRoundTrips(before, upstreamSpans),
    own: waitedRoundTrips(before.filter((s) => !isBudgetBucket(s)), upstreamSpans),
    ops: Object.entries(ops)
      .map(([op, n]) => (n > 1 ? `${op}×${n}` : op))
      .join(' + '),
  };
}

const upstreamSpans: RoundTripSpan[] = [];
let engineProcess: EngineProcess;

/** How long at least one of these spans was in flight (overlaps counted once). */
export function busyMs(spans: RoundTripSpan[]): number {
  let busy = 0;
  let until = -Infinity;
  for (const s of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    if (s.endMs <= until) continue;
    busy += s.endMs - Math.max(s.startMs, until);
    until = s.endMs;
  }
  return busy;
}

/** `ROUND_TRIP_TRACE=1`: prints each flow's last sample as a timeline (ms from the request's start). */
const TRACE = process.env.ROUND_TRIP_TRACE === '1';
let lastTrace = '';
function traceOf(started: number, answered: number, spans: RoundTripSpan[]): string {
  const at = (ms: number) => (ms - started).toFixed(1).padStart(6);
  const lines = [...spans]
    .sort((a, b) => a.startMs - b.startMs)
    .map((s) => `${at(s.startMs)} → ${at(s.endMs)}  ${s.op.padEnd(15)} ${(s.pk ?? '').replace(/[0-9a-f]{16,}/g, '…')}`);
  return [...lines, `${at(answered)}  answered`].join('\n');
}

async function sample(counter: RoundTripCounter, run: () => Promise<void>): Promise<FlowSample[]> {
  for (let i = 0; i < WARMUP; i++) await run();
  const samples: FlowSample[] = [];
  for (let i = 0; i < SAMPLES; i++) samples.push(await measure(counter, upstreamSpans, engineProcess, run));
  if (TRACE) console.log(`${lastTrace}\n`);
  return samples;
}

/** The most frequent value (ties: the larger), so one request retried by the SDK does not skew it. */
function mode(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0][0];
}

function row(flow: string, samples: FlowSample[], extra: Partial<BenchRow> = {}): BenchRow {
  return {
    flow,
    requests: mode(samples.map((s) => s.requests)),
    'after answer': mode(samples.map((s) => s.after)),
    'sequential round trips': mode(samples.map((s) => s.sequential)),
    'own sequential': mode(samples.map((s) => s.own)),
    'max sequential': Math.max(...samples.map((s) => s.sequential)),
    'median ms': round(median(samples.map((s) => s.ms)), 1),
    'upstream floor ms': '-',
    'own cost ms': '-',
    'own ms per sample': '-',
    'of which store ms': '-',
    'of which engine ms': round(median(samples.map((s) => s.engineMs)), 1),
    'store alone ms': '-',
    'store alone requests': '-',
    ...extra,
    operations: samples[samples.length - 1].ops,
  };
}

async function managementToken(server: LocalServer): Promise<string> {
  const c = server.credentials.machineClient;
  const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience: `${server.url}/api/v2/` });
  return String(res.body.access_token);
}

/** Users of the dev tenant's database connection, created through the Management API. */
async function createUsers(server: LocalServer, n: number): Promise<{ email: string; password: string }[]> {
  const accessToken = await managementToken(server);
  const users = Array.from({ length: n }, () => ({ email: `pw-${randomBytes(5).toString('hex')}@example.com`, password: `Pw-${randomBytes(6).toString('hex')}` }));
  for (const u of users) {
    const res = await fetch(`${server.url}/api/v2/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ connection: server.credentials.connection.name, ...u }),
    });
    if (res.status !== 201) throw new Error(`user not created: ${res.status} ${await res.text()}`);
  }
  return users;
}

async function token(server: LocalServer, form: Record<string, string>) {
  const res = await postForm(`${server.url}/oauth/token`, form);
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Record<string, string>;
}

/** The floor: the re-mint's upstream calls made directly, without this service in between. */
async function upstreamFloor(upstream: FakeUpstream, withUserinfo: boolean): Promise<number> {
  const clientId = `floor-${randomBytes(4).toString('hex')}`;
  upstream.addClient({ client_id: clientId, client_secret: 'floor-secret' });
  const times: number[] = [];
  for (let i = 0; i < SAMPLES + WARMUP; i++) {
    const user = upstream.addUser({ email: `floor-${randomBytes(5).toString('hex')}@example.com`, password: 'pw' });
    const refreshToken = upstream.issueRefreshToken({ sub: user.sub, client_id: clientId, scope: SCOPE });
    const started = performance.now();
    const answer = await postForm(upstream.tokenEndpoint, { grant_type: 'refresh_token', client_id: clientId, client_secret: 'floor-secret', refresh_token: refreshToken });
    if (withUserinfo) await (await fetch(upstream.userinfoEndpoint, { headers: { authorization: `Bearer ${answer.body.access_token}` } })).json();
    if (i >= WARMUP) times.push(performance.now() - started);
  }
  return median(times);
}

async function remint(server: LocalServer, counter: RoundTripCounter, upstream: FakeUpstream, recorder: StoreRecorder, profileFrom: 'userinfo' | 'id_token') {
  const { source, clientId } = await addMigrationSource(server, upstream, { profile_from: profileFrom });
  const web = server.credentials.webClient;
  // Each sample's requests the answer waited for (not those ending during an upstream call).
  const waitedFor: RecordedRequest[][] = [];
  try {
    const samples = await sample(counter, async () => {
      const user = upstream.addUser({ email: `rt-${randomBytes(5).toString('hex')}@example.com`, password: 'pw', email_verified: true });
      const refreshToken = upstream.issueRefreshToken({ sub: user.sub, client_id: clientId, scope: SCOPE });
      recorder.take();
      await token(server, { grant_type: 'refresh_token', client_id: web.client_id, client_secret: web.client_secret, refresh_token: refreshToken });
      const hidden = (r: RecordedRequest) => upstreamSpans.some((u) => u.startMs <= r.endMs && r.endMs <= u.endMs);
      waitedFor.push(recorder.take().filter((r) => !hidden(r)));
    });
    const floor = await upstreamFloor(upstream, profileFrom === 'userinfo');
    const replayed: number[] = [];
    // The warm-up samples' requests are sent again first, untimed, as the flow had its warm-up too.
    for (const [i, requests] of waitedFor.entries()) {
      const ms = await replayStoreRequests(server.deps.db, requests, `#REPLAY#${profileFrom}#${i}`);
      if (i >= waitedFor.length - SAMPLES) replayed.push(ms);
    }
    const ms = median(samples.map((s) => s.ms));
    return row(`re-mint (${profileFrom})`, samples, {
      'upstream floor ms': round(floor, 1),
      'own cost ms': round(ms - floor, 1),
      'own ms per sample': round(median(samples.map((s) => s.ownMs)), 1),
      'of which store ms': round(median(samples.map((s) => s.storeMs)), 1),
      'store alone ms': round(median(replayed), 1),
      'store alone requests': mode(waitedFor.slice(-SAMPLES).map((r) => r.length)),
    });
  } finally {
    await removeMigrationSource(server, source);
  }
}

/**
 * One DynamoDB request on its own, through the service's own document client: its latency, and
 * the CPU this process spends on it (the SDK's serialisation, signing and HTTP), a floor under
 * every request a flow sends one after another (and, CPU being one thread, side by side too).
 */
async function oneRequest(server: LocalServer): Promise<{ ms: number; cpuMs: number; engineMs: number }> {
  const { db, tableName } = server.deps;
  const get = () => db.send(new GetCommand({ TableName: tableName, Key: { pk: 'BENCH#one-request', sk: 'ITEM' } }));
  for (let i = 0; i < 50; i++) await get();
  const times: number[] = [];
  const since = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < 300; i++) {
    const started = performance.now();
    await get();
    times.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  const served = await engineProcess.servedSince(since);
  return { ms: median(times), cpuMs: (used.user + used.system) / 1000 / times.length, engineMs: median(served.map((s) => s.endMs - s.startMs)) };
}

export async function runRoundTripsBench(): Promise<BenchReport> {
  const counter = createRoundTripCounter({ spans: true });
  const engine = await startEngineProcess();
  engineProcess = engine;
  const upstream = await startFakeUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
  // A second server on the same engine and data: the process a returning user has not signed in through.
  const dataDir = mkdtempSync(join(tmpdir(), 'round-trips-'));
  const serverOptions = { counter, sink: createSilentSink(), config: { bcryptCost: 4 }, dynamoEndpoint: engine.endpoint, dataDir, fetch: timedFetch(upstreamSpans) };
  const server = await startLocalServer(serverOptions);
  const other = await startLocalServer(serverOptions);
  try {
    const c = server.credentials;
    const web = { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret };
    const users = await createUsers(server, 2 * (SAMPLES + WARMUP));
    const returning = users.splice(0, SAMPLES + WARMUP);
    const loginAt = (s: LocalServer, u: { email: string; password: string }) => token(s, { grant_type: 'password', username: u.email, password: u.password, scope: SCOPE, ...web });
    const firstEver = await sample(counter, async () => void (await loginAt(server, users.shift()!)));
    for (const u of returning) await loginAt(server, u);
    const returningLogin = await sample(counter, async () => void (await loginAt(other, returning.shift()!)));
    let refreshToken = '';
    const password = await sample(counter, async () => {
      refreshToken = (await token(server, { grant_type: 'password', username: c.demoUser.email, password: c.demoUser.password, scope: SCOPE, ...web })).refresh_token;
    });
    const refresh = await sample(counter, async () => {
      refreshToken = (await token(server, { grant_type: 'refresh_token', refresh_token: refreshToken, ...web })).refresh_token;
    });
    const rows = [row('password grant', password), row('refresh grant', refresh)];
    const recorder = recordStoreRequests(server.deps.db);
    rows.push(await remint(server, counter, upstream, recorder, 'userinfo'));
    rows.push(await remint(server, counter, upstream, recorder, 'id_token'));
    const [, rf, rmU, rmI] = rows;
    const single = await oneRequest(server);
    const pwReturning = row('password grant, returning user', returningLogin);
    const pwFirst = row("password grant, user's first login", firstEver);
    rows[0] = row('password grant, repeat login', password);
    rows.splice(1, 0, pwReturning, pwFirst);
    const allRequests = (r: BenchRow) => Number(r.requests) + Number(r['after answer']);
    const ownCost = (r: BenchRow) => Number(r['own cost ms']);
    return {
      name: 'round trips',
      rows,
      notes: [
        `${SAMPLES} sequential requests per flow after ${WARMUP} warm-up ones (tenant configuration cached); fake upstream adds ${UPSTREAM_LATENCY_MS} ms per call; the engine in its own process; bcrypt cost 4`,
        'password grant: "repeat login" signs the same user in again through the same process; "returning user" a user who signed in before, through a second process on the same store that has not seen them (as a new Lambda instance); "first login" a user who never signed in (created through the Management API; an imported user\'s first sign-in writes its count on its own, one request more)',
        'requests / sequential round trips: the mode over the samples; "after answer": requests started once the answer was sent',
        '"own ms per sample": the median of each sample\'s latency less the time its own upstream calls were in flight (steadier than the difference of two medians on a busy machine); "of which store ms": of that, the time at least one DynamoDB request was in flight (from the SDK signing it to its parsed answer); "of which engine ms": the time the engine itself was serving one (from the request\'s arrival to its answer sent, timed in the engine\'s process), outside upstream calls (for the password and refresh grants, of the whole latency)',
        `one GetItem alone through the service's client: ${round(single.ms, 2)} ms median, of which the engine serving it ${round(single.engineMs, 2)} ms; ${round(single.cpuMs, 2)} ms of this process's CPU (all its threads) per request; a re-mint sends ${rmI.requests}`,
        '"store alone ms": the requests a re-mint\'s answer waited for ("store alone requests": those not ending during an upstream call), sent again through the same client with nothing else around them, each once those that had ended before it had ended again (side by side where they were), on items of their own: the floor the store puts under a re-mint\'s own cost on this machine',
        `re-mint own ms per sample less the engine's: ${round(Number(rmU['own ms per sample']) - Number(rmU['of which engine ms']), 1)} ms (userinfo), ${round(Number(rmI['own ms per sample']) - Number(rmI['of which engine ms']), 1)} ms (id_token)`,
        `node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(1)} (own cost grows with the machine's load)`,
      ],
      targets: [
        {
          target: `re-mint <= ${TARGETS.remintSequential} sequential round trips of its own (the upstream budget's bucket apart)`,
          actual: `${rmU['own sequential']} (userinfo), ${rmI['own sequential']} (id_token); with the budget's ${rmU['sequential round trips']} and ${rmI['sequential round trips']}`,
          met: Math.max(Number(rmU['own sequential']), Number(rmI['own sequential'])) <= TARGETS.remintSequential,
        },
        { target: `refresh grant <= ${TARGETS.refreshSequential} sequential round trips`, actual: String(rf['sequential round trips']), met: Number(rf['sequential round trips']) <= TARGETS.refreshSequential },
        {
          target: `password grant <= ${TARGETS.passwordRequests} requests (before and after the answer)`,
          actual: `${allRequests(pwFirst)} (a user's first login), ${allRequests(pwReturning)} (returning user, new process), ${allRequests(rows[0])} (repeat login)`,
          met: Math.max(allRequests(pwFirst), allRequests(pwReturning), allRequests(rows[0])) <= TARGETS.passwordRequests,
        },
        { target: `re-mint own cost <= ${TARGETS.remintOwnCostMs} ms over its upstream floor`, actual: `${ownCost(rmU)} ms (userinfo), ${ownCost(rmI)} ms (id_token)`, met: Math.max(ownCost(rmU), ownCost(rmI)) <= TARGETS.remintOwnCostMs },
      ],
    };
  } finally {
    await other.close();
    await server.close();
    await upstream.close();
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const bench = { name: 'round-trips', run: runRoundTripsBench };
