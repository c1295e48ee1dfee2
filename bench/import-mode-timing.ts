/**
 * The answer-time gap of import mode (security review, item 10): a wrong password of a user who
 * has already migrated (answered locally) against a wrong password of an email still only
 * upstream (answered after the upstream's rejection), medians of 40 requests each, with the
 * padding of local failures on and off. bcrypt at cost 10, fake upstream with 50 ms latency.
 * Every request comes from its own loopback address, so no strike or throttle interferes.
 *
 *   npm run bench -- import-mode-timing
 */
import { randomBytes } from 'node:crypto';
import { startLocalServer } from '../bin/local/server.js';
import { createUser } from '../lambdas/identity/create-user.js';
import { failureTiming } from '../lambdas/identity/failure-timing.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { connectionByName } from '../lambdas/store/tenant-config-repository.js';
import { startFakeUpstream } from '../test/support/fake-upstream.js';
import { postFormFrom } from '../test/support/from-ip.js';
import { linkUpstream } from '../test/support/import-mode.js';
import type { BenchReport } from './token-grants.js';
import { median, p95, round } from './support/stats.js';

const SAMPLES = 40;
const UPSTREAM_LATENCY_MS = 50;
const BCRYPT_COST = 10;

export async function benchImportModeTiming(): Promise<BenchReport> {
  const upstream = await startFakeUpstream({ latencyMs: UPSTREAM_LATENCY_MS });
  const server = await startLocalServer({ sink: createSilentSink(), config: { bcryptCost: BCRYPT_COST } });
  try {
    await linkUpstream(server, upstream);
    const c = server.credentials;
    const connection = connectionByName((await server.deps.tenantConfigs.load(c.tenant))!, c.connection.name)!;
    let ip = 0;
    const nextIp = () => {
      ip += 1;
      return `127.0.${100 + Math.floor(ip / 250)}.${(ip % 250) + 1}`;
    };
    const login = async (username: string) => {
      const t0 = performance.now();
      const res = await postFormFrom(nextIp(), server.url, '/oauth/token', {
        grant_type: 'password', username, password: 'Wrong-guess-1', client_id: c.webClient.client_id, client_secret: c.webClient.client_secret,
      });
      if (res.status !== 403) throw new Error(`expected 403, got ${res.status}`);
      return performance.now() - t0;
    };
    const newLocalEmail = async () => {
      const email = `local-${randomBytes(5).toString('hex')}@example.com`;
      await createUser(server.deps, { tenant: c.tenant, connection, profile: { email }, password: 'Right-password-1' });
      return email;
    };
    const newUpstreamEmail = () => upstream.addUser({ email: `up-${randomBytes(5).toString('hex')}@example.com`, password: 'Right-password-1' }).email;

    const run = async (padding: boolean) => {
      failureTiming.setPadding(padding);
      const locals: string[] = [];
      for (let i = 0; i < SAMPLES; i++) locals.push(await newLocalEmail());
      for (let i = 0; i < 5; i++) await login(newUpstreamEmail()); // warm-up: the instance learns the upstream's answer time
      const local: number[] = [];
      const remote: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        local.push(await login(locals[i]));
        remote.push(await login(newUpstreamEmail()));
      }
      return { local, remote };
    };

    const off = await run(false);
    const on = await run(true);
    failureTiming.setPadding(true);
    const row = (label: string, r: { local: number[]; remote: number[] }) => ({
      padding: label,
      'local wrong password p50 ms': round(median(r.local)),
      'upstream wrong password p50 ms': round(median(r.remote)),
      'gap p50 ms (upstream - local)': round(median(r.remote) - median(r.local)),
      'local p95 ms': round(p95(r.local)),
      'upstream p95 ms': round(p95(r.remote)),
      n: r.local.length,
    });
    return {
      name: 'import-mode timing: local vs upstream wrong password',
      rows: [row('off (before)', off), row('on', on)],
      notes: [`bcrypt cost ${BCRYPT_COST}, fake upstream latency ${UPSTREAM_LATENCY_MS} ms, each request from its own loopback IP`],
    };
  } finally {
    failureTiming.setPadding(true);
    await server.close();
    await upstream.close();
  }
}
