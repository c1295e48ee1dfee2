/**
 * What custom claims and RBAC add to one issuance: refresh grants (the cheapest issuance, so the
 * added share is largest) through the local HTTP server, the engine in its own process, with
 * one configuration switched on after another in interleaved blocks so drift on a shared machine
 * falls on all of them alike.
 *
 *   npm run bench -- custom-claims
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startLocalServer } from '../bin/local/server.js';
import { postLoginFromConfig } from '../lambdas/extensions/post-login-setup.js';
import type { TenantContext } from '../lambdas/http/tenant-context.js';
import { assembleTokenClaims } from '../lambdas/oauth/token-claims.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createRoundTripCounter } from '../lambdas/store/dynamo-client.js';
import type { BenchReport } from './token-grants.js';
import { startEngineProcess } from './support/engine-process.js';
import { median, percentile, round } from './support/stats.js';

const BLOCKS = 12;
const PER_BLOCK = 15;
const ACTION = fileURLToPath(new URL('../test/support/post-login-action.mjs', import.meta.url));

export async function runCustomClaimsBench(): Promise<BenchReport> {
  const counter = createRoundTripCounter();
  const engine = await startEngineProcess();
  // The configuration is read once and then changed in place between blocks (no reloads).
  const server = await startLocalServer({ counter, sink: createSilentSink(), config: { configCacheMs: 3_600_000 }, dynamoEndpoint: engine.endpoint });
  try {
    const c = server.credentials;
    const deps = server.deps;
    const config = (await deps.tenantConfigCache.get(c.tenant, deps.tenantConfigs.load))!;
    const api = config.resourceServers.get(c.api.identifier)!;
    const web = { client_id: c.webClient.client_id, client_secret: c.webClient.client_secret };
    const post = async (form: Record<string, string>) => {
      const res = await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
      const body = (await res.json()) as Record<string, string>;
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${body.error}`);
      return body;
    };
    let refreshToken = (
      await post({ grant_type: 'password', username: c.demoUser.email, password: c.demoUser.password, audience: api.identifier, scope: 'openid offline_access read:things', ...web })
    ).refresh_token;
    const refresh = async () => {
      refreshToken = (await post({ grant_type: 'refresh_token', refresh_token: refreshToken, ...web })).refresh_token;
    };
    const extension = postLoginFromConfig({ modulePath: ACTION, timeoutMs: 2000, failureMode: 'closed' });
    const settings = {
      baseline: () => {
        api.enforce_policies = false;
        api.token_dialect = 'access_token';
        config.claimMappings = [];
        deps.postLogin = undefined;
      },
      rbac: () => {
        api.enforce_policies = true;
        api.token_dialect = 'access_token_authz';
      },
      mappings: () => {
        config.claimMappings = [
          { id: 'clm_bench000000000001', source: 'app_metadata.plan', claim: 'https://bench.example/plan', tokens: ['access_token', 'id_token'] },
          { id: 'clm_bench000000000002', source: 'roles', claim: 'https://bench.example/roles', tokens: ['access_token'] },
        ];
      },
      extension: () => {
        deps.postLogin = extension;
      },
    };
    const configurations: { name: string; apply: (() => void)[] }[] = [
      { name: 'no RBAC, no custom claims', apply: [settings.baseline] },
      { name: 'RBAC (enforce_policies + access_token_authz)', apply: [settings.baseline, settings.rbac] },
      { name: '+ 2 declarative mappings', apply: [settings.baseline, settings.rbac, settings.mappings] },
      { name: '+ post-login Action (local module)', apply: [settings.baseline, settings.rbac, settings.mappings, settings.extension] },
    ];
    const times = new Map<string, number[]>(configurations.map((x) => [x.name, []]));
    const trips = new Map<string, number>();
    for (const x of configurations) {
      x.apply.forEach((f) => f());
      for (let i = 0; i < 5; i++) await refresh();
      const before = counter.count;
      await refresh();
      trips.set(x.name, counter.count - before);
    }
    for (let block = 0; block < BLOCKS; block++) {
      for (const x of configurations) {
        x.apply.forEach((f) => f());
        for (let i = 0; i < PER_BLOCK; i++) {
          const start = performance.now();
          await refresh();
          times.get(x.name)!.push(performance.now() - start);
        }
      }
    }
    // The same steps without HTTP and without the engine (the roles read answered from memory):
    // what the service's own code adds per issuance, below the noise of the request timings.
    const user = (await deps.users.getUser(c.tenant, c.demoUser.user_id))!;
    const client = config.clients.get(c.webClient.client_id)!;
    const ctx = { tenant: c.tenant, config, issuer: 'https://bench/', host: 'bench' } as TenantContext;
    const roleIds = await deps.roleMembers.roleIdsOf(user);
    const inMemory = { ...deps, roleMembers: { ...deps.roleMembers, roleIdsOf: async () => roleIds } };
    const cpu = new Map<string, number>();
    for (const x of configurations) {
      x.apply.forEach((f) => f());
      inMemory.postLogin = deps.postLogin;
      const input = { client, user, scope: 'openid offline_access read:things', audience: api.identifier, grantType: 'refresh_token' };
      for (let i = 0; i < 200; i++) await assembleTokenClaims(inMemory, ctx, input);
      const n = 2000;
      const start = performance.now();
      for (let i = 0; i < n; i++) await assembleTokenClaims(inMemory, ctx, input);
      cpu.set(x.name, ((performance.now() - start) / n) * 1000);
    }
    const baseMedian = median(times.get(configurations[0].name)!);
    const rows = configurations.map((x) => {
      const t = times.get(x.name)!;
      return {
        configuration: x.name,
        'median ms': round(median(t), 2),
        'p95 ms': round(percentile(t, 95), 2),
        'added (median) ms': round(median(t) - baseMedian, 2),
        'DynamoDB requests': trips.get(x.name)!,
        'claims step in process (µs)': round(cpu.get(x.name)!, 1),
      };
    });
    return {
      name: 'custom-claims',
      rows,
      notes: [
        `refresh grants with audience ${api.identifier}, ${BLOCKS} interleaved blocks of ${PER_BLOCK} per configuration; node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(1)}`,
        'RBAC reads the user\'s roles (one Query, in the user\'s partition); the mappings and the local module run in process.',
        'A post-login Lambda adds its own synchronous invocation on top (not measurable here: no Lambda locally); its time budget bounds it.',
      ],
    };
  } finally {
    await server.close();
    await engine.close();
  }
}

export const bench = { name: 'custom-claims', run: runCustomClaimsBench };
