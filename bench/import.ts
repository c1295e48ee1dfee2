/**
 * `npm run bench -- import`: bulk import through `POST /api/v2/jobs/users-imports` over HTTP,
 * the jobs run by the local in-process worker against the engine in its own process (as
 * DynamoDB is a separate service). Users per second from the first upload to the last batch
 * done, DynamoDB requests per user, the worker process's memory, and the busiest partition key.
 * `IMPORT_USERS` (default 5,000; 100,000 for the README figure) and `IMPORT_CONCURRENCY`
 * (users of a batch imported at once, default 32).
 */
import bcrypt from 'bcryptjs';
import { startLocalServer, type LocalServer } from '../bin/local/server.js';
import { createSilentSink } from '../lambdas/logs/log-sink.js';
import { createRoundTripCounter } from '../lambdas/store/dynamo-client.js';
import { createPartitionKeyCounter } from '../lambdas/store/partition-key-counter.js';
import { keyShape } from './support/hot-keys.js';
import { startEngineProcess } from './support/engine-process.js';
import { round } from './support/stats.js';
import type { BenchReport, BenchRow } from './token-grants.js';

const N = Number(process.env.IMPORT_USERS ?? 5000);
const CONCURRENCY = Number(process.env.IMPORT_CONCURRENCY ?? 32);
const FILE_MAX = 500 * 1024 - 1024;

async function managementToken(server: LocalServer): Promise<string> {
  const c = server.credentials.machineClient;
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: c.client_id, client_secret: c.client_secret, audience: `${server.url}/api/v2/` }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** The users as import files of at most 500 KB. */
function files(prefix: string, n: number, passwordHash?: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (let i = 0; i < n; i++) {
    const text = JSON.stringify({
      email: `${prefix}${i}@example.com`,
      user_id: `${prefix}${String(i).padStart(8, '0')}`,
      email_verified: true,
      name: `Imported User ${i}`,
      app_metadata: { plan: i % 2 ? 'free' : 'pro' },
      ...(passwordHash ? { password_hash: passwordHash } : {}),
    });
    if (size + text.length + 1 > FILE_MAX) {
      out.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length) out.push(`[${current.join(',')}]`);
  return out;
}

async function run(server: LocalServer, token: string, label: string, prefix: string, passwordHash: string | undefined, counters: { roundTrips: ReturnType<typeof createRoundTripCounter>; keys: ReturnType<typeof createPartitionKeyCounter> }): Promise<BenchRow> {
  const bodies = files(prefix, N, passwordHash);
  const before = counters.roundTrips.count;
  counters.keys.reset();
  let peakRss = process.memoryUsage().rss;
  const baseRss = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  for (const users of bodies) {
    const form = new FormData();
    form.set('users', new Blob([users], { type: 'application/json' }), 'users.json');
    form.set('connection_id', server.credentials.connection.id);
    let res = await fetch(`${server.url}/api/v2/jobs/users-imports`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    // Two active import jobs per tenant (Auth0's limit): the next file waits until one ends.
    while (res.status === 429) {
      await new Promise((r) => setTimeout(r, 20));
      res = await fetch(`${server.url}/api/v2/jobs/users-imports`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    }
    if (res.status !== 201) throw new Error(`import refused: ${res.status} ${await res.text()}`);
  }
  await server.jobs.idle();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const writes = counters.keys.report('write');
  return {
    import: label,
    users: N,
    jobs: bodies.length,
    'users/s': round(N / seconds, 0),
    seconds: round(seconds, 1),
    'DynamoDB requests/user': round((counters.roundTrips.count - before) / N, 2),
    'peak RSS MB': round(peakRss / 2 ** 20, 0),
    'RSS growth MB': round((peakRss - baseRss) / 2 ** 20, 0),
    'busiest write key': writes.busiest ? `${keyShape(writes.busiest.key)} ${round(writes.busiest.share * 100, 2)}%` : '-',
  };
}

export const bench = {
  name: 'import',
  async run(): Promise<BenchReport> {
    const engine = await startEngineProcess();
    const roundTrips = createRoundTripCounter();
    const keys = createPartitionKeyCounter();
    const server = await startLocalServer({ sink: createSilentSink(), config: { bcryptCost: 4 }, dynamoEndpoint: engine.endpoint, counter: roundTrips, partitionKeys: keys, importConcurrency: CONCURRENCY });
    const rows: BenchRow[] = [];
    try {
      const token = await managementToken(server);
      rows.push(await run(server, token, 'without hashes', 'plain', undefined, { roundTrips, keys }));
      rows.push(await run(server, token, 'with bcrypt hashes', 'hashed', bcrypt.hashSync('Imported-pw-1', 10), { roundTrips, keys }));
    } finally {
      await server.close();
      await engine.close();
    }
    const plain = Number(rows[0]['users/s']);
    return {
      name: 'import',
      rows,
      notes: [
        `${N} users per run (IMPORT_USERS), ${CONCURRENCY} users of a batch at once (IMPORT_CONCURRENCY), one batch at a time; the engine in its own process.`,
        'Each user costs one conditional claim of its email; the new users of a batch are read 50 to a BatchGet and written 25 to a BatchWrite (with their imported hash, stored as it is: no hashing at import, checked at the first login).',
        'RSS is the whole bench process (server, worker and the HTTP client), sampled every 100 ms.',
      ],
      targets: [{ target: 'at least 500 users/s without hashes', actual: `${plain} users/s`, met: plain >= 500 }],
    };
  },
};
