/**
 * Enumeration by timing of `POST /dbconnections/change_password`: the answer time for a local
 * user (ticket and mail), a user who exists only upstream (the upstream look-up, ticket and mail)
 * and an unknown email (reads and the upstream look-up only), medians of SAMPLES requests each,
 * with the answer floor off and at its default. Import mode with look-up credentials, fake
 * upstream with 50 ms per call, mail to the local outbox. Every request comes from its own
 * loopback address and email, so the (IP, email) limit never interferes.
 *
 *   npm run bench -- reset-timing
 *   RESET_SAMPLES=40 npm run bench -- reset-timing
 */
import { randomBytes } from 'node:crypto';
import { startLocalServer, type LocalServer } from '../bin/local/server.js';
import { DEFAULT_RESET_ANSWER_FLOOR_MS } from '../lambdas/dbconnections/password-reset.js';
import { createUser } from '../lambdas/identity/create-user.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { connectionByName } from '../lambdas/store/tenant-config-repository.js';
import { startFakeUpstream, type FakeUpstream } from '../test/support/fake-upstream.js';
import { requestFrom } from '../test/support/from-ip.js';
import { linkUpstream, updateConnectionOptions } from '../test/support/import-mode.js';
import { median, p95, round } from './support/stats.js';
import type { BenchReport } from './token-grants.js';

const SAMPLES = Number(process.env.RESET_SAMPLES ?? 20);
const UPSTREAM_LATENCY_MS = 50;
const MGMT = { client_id: 'reset-timing', client_secret: randomBytes(24).toString('base64url') };

async function measure(floorMs: number, upstream: FakeUpstream, nextIp: () => string) {
  const server: LocalServer = await startLocalServer({ sink: createSilentSink(), config: { bcryptCost: 4, resetAnswerFloorMs: floorMs } });
  try {
    await linkUpstream(server, upstream);
    await server.deps.secrets.put('bench/reset-timing', MGMT.client_secret);
    await updateConnectionOptions(server, (o) => ({
      ...o,
      configuration: { ...o.configuration!, management_api: { domain: upstream.domain, client_id: MGMT.client_id, client_secret_ref: 'bench/reset-timing', rate_limit: { requests_per_second: 1000 } } },
    }));
    const c = server.credentials;
    const connection = connectionByName((await server.deps.tenantConfigs.load(c.tenant))!, c.connection.name)!;
    const ask = async (email: string) => {
      const body = JSON.stringify({ client_id: c.webClient.client_id, email, connection: c.connection.name });
      const t0 = performance.now();
      const res = await requestFrom(nextIp(), `${server.url}/dbconnections/change_password`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (res.status !== 200) throw new Error(`expected 200, got ${res.status}`);
      return performance.now() - t0;
    };
    const hex = () => randomBytes(5).toString('hex');
    const newLocal = async () => {
      const email = `local-${hex()}@example.com`;
      await createUser(server.deps, { tenant: c.tenant, connection, profile: { email }, password: 'Local-pass-1' });
      return email;
    };
    const newUpstreamOnly = () => upstream.addUser({ email: `up-${hex()}@example.com`, password: 'Upstream-pass-1' }).email;
    const locals: string[] = [];
    for (let i = 0; i < SAMPLES; i++) locals.push(await newLocal());
    for (let i = 0; i < 3; i++) await ask(newUpstreamOnly()); // warm-up: the upstream token, the engine's first reads
    const times = { local: [] as number[], upstream: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < SAMPLES; i++) {
      times.local.push(await ask(locals[i]));
      times.upstream.push(await ask(newUpstreamOnly()));
      times.unknown.push(await ask(`unknown-${hex()}@example.com`));
    }
    return times;
  } finally {
    await server.close();
  }
}

export const bench = {
  name: 'reset-timing',
  async run(): Promise<BenchReport> {
    const upstream = await startFakeUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
    let ip = 0;
    const nextIp = () => {
      ip += 1;
      return `127.0.${120 + Math.floor(ip / 250)}.${(ip % 250) + 1}`;
    };
    try {
      upstream.management.addClient({ ...MGMT, scopes: ['read:users'] });
      const off = await measure(0, upstream, nextIp);
      const on = await measure(DEFAULT_RESET_ANSWER_FLOOR_MS, upstream, nextIp);
      const row = (label: string, t: Awaited<ReturnType<typeof measure>>) => ({
        floor: label,
        'local p50 ms': round(median(t.local)),
        'upstream-only p50 ms': round(median(t.upstream)),
        'unknown p50 ms': round(median(t.unknown)),
        'largest p50 gap ms': round(Math.max(median(t.local), median(t.upstream), median(t.unknown)) - Math.min(median(t.local), median(t.upstream), median(t.unknown))),
        'local p95 ms': round(p95(t.local)),
        'upstream-only p95 ms': round(p95(t.upstream)),
        'unknown p95 ms': round(p95(t.unknown)),
        n: t.local.length,
      });
      return {
        name: 'reset-timing: change_password answer time by kind of email',
        rows: [row('off (0 ms)', off), row(`on (${DEFAULT_RESET_ANSWER_FLOOR_MS} ms)`, on)],
        notes: [
          `Import mode with upstream look-up credentials; fake upstream latency ${UPSTREAM_LATENCY_MS} ms per call; mail to the local outbox; each request from its own loopback IP.`,
          'local: ticket + mail; upstream-only: users-by-email upstream + ticket + mail; unknown: users-by-email upstream, nothing written.',
        ],
      };
    } finally {
      await upstream.close();
    }
  },
};
