/**
 * Password fallback latency against a fake upstream Auth0 that adds 50 ms to every call,
 * with bcrypt at cost 10 (the production default), as a ratio to the floor: the two upstream
 * round trips (password-realm + userinfo) made directly plus one bcrypt hash, back to back.
 * Also the DynamoDB round trips of a fallback login and of the user's following local login.
 *
 *   npx tsx bench/password-fallback.ts
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { startLocalServer, type LocalServer } from '../bin/local/server.js';
import { hashPassword } from '../lambdas/identity/passwords.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { PASSWORD_REALM_GRANT } from '../lambdas/migration/upstream-client.js';
import { createRoundTripCounter, type RoundTripCounter } from '../lambdas/store/dynamo-client.js';
import { startFakeUpstream, type FakeUpstream } from '../test/support/fake-upstream.js';
import { linkUpstream } from '../test/support/import-mode.js';
import { median, p95, postForm, round } from './support/stats.js';

const UPSTREAM_LATENCY_MS = 50;
const BCRYPT_COST = 10;
const SAMPLES = 20;
const PASSWORD = 'Bench-upstream-password-1';


const newEmail = (label: string) => `${label}-${randomBytes(5).toString('hex')}@example.com`;

/** The floor's parts measured directly: password-realm, userinfo, one bcrypt hash at cost 10. */
async function floorParts(upstream: FakeUpstream): Promise<{ tokenMs: number; userinfoMs: number; bcryptMs: number }> {
  const clientId = `floor-${randomBytes(4).toString('hex')}`;
  upstream.addClient({ client_id: clientId, client_secret: 'floor-secret' });
  const token: number[] = [];
  const userinfo: number[] = [];
  const bcrypt: number[] = [];
  for (let i = 0; i < SAMPLES + 1; i++) {
    const email = upstream.addUser({ email: newEmail('floor'), password: PASSWORD }).email;
    const t0 = performance.now();
    const answer = await postForm(upstream.tokenEndpoint, {
      grant_type: PASSWORD_REALM_GRANT, client_id: clientId, client_secret: 'floor-secret',
      realm: 'Username-Password-Authentication', username: email, password: PASSWORD, scope: 'openid profile email',
    });
    const t1 = performance.now();
    await (await fetch(upstream.userinfoEndpoint, { headers: { authorization: `Bearer ${answer.body.access_token}` } })).json();
    const t2 = performance.now();
    await hashPassword(PASSWORD, BCRYPT_COST);
    const t3 = performance.now();
    if (i === 0) continue;
    token.push(t1 - t0);
    userinfo.push(t2 - t1);
    bcrypt.push(t3 - t2);
  }
  return { tokenMs: median(token), userinfoMs: median(userinfo), bcryptMs: median(bcrypt) };
}

interface Measured {
  ms: number;
  roundTrips: number;
  byOperation: Record<string, number>;
}

async function measuredLogin(server: LocalServer, counter: RoundTripCounter, username: string): Promise<Measured> {
  const web = server.credentials.webClient;
  const countBefore = counter.count;
  const opsBefore = { ...counter.byOperation };
  const started = performance.now();
  const res = await postForm(`${server.url}/oauth/token`, {
    grant_type: PASSWORD_REALM_GRANT, realm: server.credentials.connection.name, username, password: PASSWORD,
    scope: 'openid profile email', client_id: web.client_id, client_secret: web.client_secret,
  });
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(counter.byOperation)) if (n - (opsBefore[op] ?? 0) > 0) byOperation[op] = n - (opsBefore[op] ?? 0);
  return { ms, roundTrips: counter.count - countBefore, byOperation };
}

export async function benchPasswordFallback(): Promise<Record<string, unknown>> {
  const counter = createRoundTripCounter();
  const upstream = await startFakeUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
  const server = await startLocalServer({ counter, sink: createSilentSink(), config: { bcryptCost: BCRYPT_COST } });
  try {
    await linkUpstream(server, upstream);
    const floor = await floorParts(upstream);
    const fallback: Measured[] = [];
    const local: Measured[] = [];
    for (let i = 0; i < SAMPLES + 1; i++) {
      const email = upstream.addUser({ email: newEmail('bench'), password: PASSWORD, email_verified: true }).email;
      const first = await measuredLogin(server, counter, email);
      const second = await measuredLogin(server, counter, email);
      if (i === 0) continue; // warm-up: tenant config, signing key, secret, connections
      fallback.push(first);
      local.push(second);
    }
    const floorMs = floor.tokenMs + floor.userinfoMs + floor.bcryptMs;
    const overlappedFloorMs = floor.tokenMs + Math.max(floor.userinfoMs, floor.bcryptMs);
    const fallbackMedian = median(fallback.map((m) => m.ms));
    return {
      name: 'password-fallback',
      upstream_latency_ms_per_call: UPSTREAM_LATENCY_MS,
      bcrypt_cost: BCRYPT_COST,
      samples: SAMPLES,
      floor_ms: {
        password_realm: round(floor.tokenMs),
        userinfo: round(floor.userinfoMs),
        bcrypt_hash: round(floor.bcryptMs),
        total: round(floorMs),
      },
      fallback_login_ms: { median: round(fallbackMedian), p95: round(p95(fallback.map((m) => m.ms))) },
      fallback_ratio_to_floor: round(fallbackMedian / floorMs, 2),
      // What full overlap of the hash with /userinfo could reach: password-realm + max(userinfo, bcrypt).
      overlapped_floor_ms: round(overlappedFloorMs),
      fallback_ratio_to_overlapped_floor: round(fallbackMedian / overlappedFloorMs, 2),
      following_local_login_ms: { median: round(median(local.map((m) => m.ms))), p95: round(p95(local.map((m) => m.ms))) },
      dynamo_round_trips: {
        fallback_login: median(fallback.map((m) => m.roundTrips)),
        fallback_login_by_operation: fallback[0].byOperation,
        following_local_login: median(local.map((m) => m.roundTrips)),
        following_local_login_by_operation: local[0].byOperation,
      },
      upstream_calls_per_fallback_login: 2,
    };
  } finally {
    await server.close();
    await upstream.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchPasswordFallback(), null, 2));
}
