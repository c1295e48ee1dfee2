/**
 * Refresh-token re-mint latency against fake upstream Auth0 tenants that add 50 ms to every
 * call, with 1 and with 3 migration sources (only one of which knows the token), for
 * `profile_from: "userinfo"` and `"id_token"`. Reported as a ratio to the floor the upstream
 * imposes: one token + one userinfo round trip (userinfo), one token round trip (id_token).
 * Also counts upstream calls and DynamoDB round trips per re-mint.
 *
 *   npx tsx bench/refresh-remint.ts
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { startLocalServer, type LocalServer } from '../bin/local/server.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createRoundTripCounter } from '../lambdas/store/dynamo-client.js';
import { startFakeUpstream, type FakeUpstream } from '../test/support/fake-upstream.js';
import { addMigrationSource, removeMigrationSource } from '../test/support/migration-source.js';
import { median, p95, postForm, round } from './support/stats.js';

const UPSTREAM_LATENCY_MS = 50;
const SAMPLES = 25;
const SCOPE = 'openid profile email offline_access';


/** The floor: the same upstream calls made directly, without this service in between. */
async function upstreamFloor(upstream: FakeUpstream, withUserinfo: boolean): Promise<number> {
  const clientId = `floor-${randomBytes(4).toString('hex')}`;
  upstream.addClient({ client_id: clientId, client_secret: 'floor-secret' });
  const times: number[] = [];
  for (let i = 0; i < SAMPLES + 1; i++) {
    const user = upstream.addUser({ email: `floor-${randomBytes(5).toString('hex')}@example.com`, password: 'pw' });
    const token = upstream.issueRefreshToken({ sub: user.sub, client_id: clientId, scope: SCOPE });
    const started = performance.now();
    const answer = await postForm(upstream.tokenEndpoint, { grant_type: 'refresh_token', client_id: clientId, client_secret: 'floor-secret', refresh_token: token });
    if (withUserinfo) {
      const res = await fetch(upstream.userinfoEndpoint, { headers: { authorization: `Bearer ${answer.body.access_token}` } });
      await res.json();
    }
    if (i > 0) times.push(performance.now() - started);
  }
  return median(times);
}

interface ScenarioResult {
  latencyMedianMs: number;
  latencyP95Ms: number;
  upstreamCallsPerRemint: number;
  dynamoRoundTripsPerRemint: number;
  dynamoByOperation: Record<string, number>;
}

async function remintScenario(
  server: LocalServer,
  counter: ReturnType<typeof createRoundTripCounter>,
  upstreams: FakeUpstream[],
  profileFrom: 'userinfo' | 'id_token',
): Promise<ScenarioResult> {
  // The last source knows the tokens; the others reject them (each still costs its 50 ms).
  const sources = [];
  for (const upstream of upstreams) sources.push(await addMigrationSource(server, upstream, { profile_from: profileFrom }));
  const holder = upstreams[upstreams.length - 1];
  const holderClient = sources[sources.length - 1].clientId;
  const web = server.credentials.webClient;
  const times: number[] = [];
  let upstreamCalls = 0;
  let roundTrips = 0;
  const byOperation: Record<string, number> = {};
  try {
    for (let i = 0; i < SAMPLES + 1; i++) {
      const user = holder.addUser({ email: `bench-${randomBytes(5).toString('hex')}@example.com`, password: 'pw', email_verified: true });
      const token = holder.issueRefreshToken({ sub: user.sub, client_id: holderClient, scope: SCOPE });
      const requestsBefore = upstreams.map((u) => u.requests.length);
      const countBefore = counter.count;
      const opsBefore = { ...counter.byOperation };
      const started = performance.now();
      const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', client_id: web.client_id, client_secret: web.client_secret, refresh_token: token });
      const elapsed = performance.now() - started;
      if (res.status !== 200) throw new Error(`re-mint failed: ${res.status} ${JSON.stringify(res.body)}`);
      if (i === 0) continue; // warm-up: tenant config, signing key, re-mint key, JWKS
      times.push(elapsed);
      upstreamCalls += upstreams.reduce((sum, u, k) => sum + u.requests.length - requestsBefore[k], 0);
      roundTrips += counter.count - countBefore;
      for (const [op, n] of Object.entries(counter.byOperation)) byOperation[op] = (byOperation[op] ?? 0) + n - (opsBefore[op] ?? 0);
    }
  } finally {
    for (const s of sources) await removeMigrationSource(server, s.source);
  }
  return {
    latencyMedianMs: round(median(times)),
    latencyP95Ms: round(p95(times)),
    upstreamCallsPerRemint: round(upstreamCalls / SAMPLES, 2),
    dynamoRoundTripsPerRemint: round(roundTrips / SAMPLES, 2),
    dynamoByOperation: Object.fromEntries(Object.entries(byOperation).filter(([, n]) => n > 0).map(([op, n]) => [op, round(n / SAMPLES, 2)])),
  };
}

export async function benchRefreshRemint(): Promise<Record<string, unknown>> {
  const counter = createRoundTripCounter();
  const upstreams = await Promise.all([0, 1, 2].map(() => startFakeUpstream({ latencyMs: UPSTREAM_LATENCY_MS })));
  const server = await startLocalServer({ counter, sink: createSilentSink(), config: { bcryptCost: 4 } });
  try {
    const floorTokenAndUserinfo = await upstreamFloor(upstreams[0], true);
    const floorToken = await upstreamFloor(upstreams[0], false);
    const scenarios = {
      userinfo_1_source: await remintScenario(server, counter, upstreams.slice(0, 1), 'userinfo'),
      userinfo_3_sources: await remintScenario(server, counter, upstreams, 'userinfo'),
      id_token_1_source: await remintScenario(server, counter, upstreams.slice(0, 1), 'id_token'),
      id_token_3_sources: await remintScenario(server, counter, upstreams, 'id_token'),
    };
    const ratio = (ms: number, floor: number) => round(ms / floor, 2);
    return {
      name: 'refresh-remint',
      upstreamLatencyMs: UPSTREAM_LATENCY_MS,
      samples: SAMPLES,
      floorTokenPlusUserinfoMs: round(floorTokenAndUserinfo),
      floorTokenOnlyMs: round(floorToken),
      scenarios,
      ratios: {
        userinfo_1_source_vs_token_plus_userinfo: ratio(scenarios.userinfo_1_source.latencyMedianMs, floorTokenAndUserinfo),
        userinfo_3_sources_vs_token_plus_userinfo: ratio(scenarios.userinfo_3_sources.latencyMedianMs, floorTokenAndUserinfo),
        id_token_1_source_vs_token_only: ratio(scenarios.id_token_1_source.latencyMedianMs, floorToken),
        id_token_3_sources_vs_token_only: ratio(scenarios.id_token_3_sources.latencyMedianMs, floorToken),
      },
      notes: [
        'Each re-mint creates a new local user (createUser: GetItem x2, PutItem claim, PutItem user).',
        'With 3 sources the two that do not know the token answer invalid_grant after their 50 ms, concurrently.',
        'Upstream calls include the rejecting sources; with id_token the JWKS is cached after the warm-up request.',
      ],
    };
  } finally {
    await server.close();
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchRefreshRemint()
    .then((result) => console.log(JSON.stringify(result, null, 2)))
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
}
