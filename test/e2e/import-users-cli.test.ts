import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AuthenticationClient } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../bin/import-users.js';
import { createUsersIndex } from '../../lambdas/store/users-index.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';

/**
 * `npm run import` against a running service over real HTTP: an Auth0 export (NDJSON with
 * password-hash lines, a gzipped JSON array) streamed into import jobs; killed with SIGKILL
 * half-way, the next run resumes from the checkpoint and creates nobody twice.
 */
let service: TestService;
let dir: string;
const children: ChildProcess[] = [];
const CLI = fileURLToPath(new URL('../../bin/import-users.ts', import.meta.url));
const EXPORT_FIXTURE = fileURLToPath(new URL('../fixtures/auth0-import/export.ndjson', import.meta.url));

beforeAll(async () => {
  service = await startTestService();
  dir = mkdtempSync(join(tmpdir(), 'import-cli-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const credentials = () => ['--target', service.url, '--client-id', service.credentials.machineClient.client_id, '--connection', service.credentials.connection.name];
const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env: { IMPORT_TARGET_CLIENT_SECRET: service.credentials.machineClient.client_secret }, pollMs: 20, tty: false } };
};
const usersWith = async (prefix: string) =>
  (await createUsersIndex(service.deps.db, service.deps.tableName).find(service.credentials.tenant, (u) => u.email?.startsWith(prefix) ?? false, 100_000)).length;

describe('npm run import', () => {
  it('imports an Auth0 NDJSON export with its password-hash lines: profile and hash become one user who signs in', async () => {
    const file = join(dir, 'export.ndjson');
    writeFileSync(file, readFileSync(EXPORT_FIXTURE));
    const run = io();
    const res = await main([file, ...credentials()], run.io);
    expect(run.err.join('')).not.toMatch(/import:/);
    expect(res).toMatchObject({ code: 0, totals: { inserted: 2, failed: 0, total: 2 } });
    expect(run.out.join('')).toMatch(/inserted 2, updated 0, failed 0, total 2 in 1 jobs/);
    const c = service.credentials;
    const auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
    const login = await auth.oauth.passwordGrant({ username: 'first.export@example.com', password: 'Imported-pw-2', realm: c.connection.name, scope: 'openid' });
    expect(decodeJwt(login.data.id_token!).sub).toBe('auth0|60aa00000000000000000001');
    const user = await service.deps.users.getUser(c.tenant, 'auth0|60aa00000000000000000001');
    expect(user).toMatchObject({ name: 'First Export', email_verified: true, app_metadata: { plan: 'pro' }, user_metadata: { lang: 'fr' } });
  });

  it('reads a gzipped JSON array, cuts it into jobs under the size given, and writes the users\' errors to the errors file', async () => {
    const users = Array.from({ length: 120 }, (_, i) => (i % 40 === 7 ? { email: `gz${i}-not-an-email` } : { email: `gz${i}@example.com`, name: `Gz ${i}` }));
    const file = join(dir, 'users.json.gz');
    writeFileSync(file, gzipSync(JSON.stringify(users, null, 1)));
    const run = io();
    const res = await main([file, ...credentials(), '--max-bytes', '3000'], run.io);
    expect(res).toMatchObject({ code: 1, totals: { inserted: 117, failed: 3, total: 120 } });
    const errors = readFileSync(`${file}.import-errors.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ job_id: expect.stringMatching(/^job_/), user: { email: 'gz7-not-an-email' }, errors: [{ code: 'INVALID_FORMAT', path: 'email' }] });
    const checkpoint = JSON.parse(readFileSync(`${file}.import-checkpoint.json`, 'utf8'));
    expect(checkpoint.jobs).toBeGreaterThan(1);
    expect(checkpoint.done).toBe(true);
    expect(await usersWith('gz')).toBe(117);
    // Run again: already done, nothing sent.
    const again = io();
    expect((await main([file, ...credentials(), '--max-bytes', '3000'], again.io)).code).toBe(0);
    expect(again.out.join('')).toMatch(/Already imported/);
  });

  it('killed with SIGKILL mid-file, resumes from its checkpoint without duplicates', async () => {
    const N = 600;
    const file = join(dir, 'big.ndjson');
    writeFileSync(
      file,
      Array.from({ length: N }, (_, i) => JSON.stringify({ user_id: `auth0|kill${String(i).padStart(6, '0')}`, email: `kill${i}@example.com`, identities: [{ provider: 'auth0' }], logins_count: 2 })).join('\n') + '\n',
    );
    const checkpointFile = join(dir, 'big.checkpoint.json');
    const args = [CLI, file, ...credentials(), '--max-bytes', '4000', '--checkpoint', checkpointFile];
    const env = { ...process.env, IMPORT_TARGET_CLIENT_SECRET: service.credentials.machineClient.client_secret };
    const start = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, exited, output: () => output };
    };

    const first = start();
    // Kill it once a few jobs are done: the file is far from finished.
    for (;;) {
      if (existsSync(checkpointFile) && JSON.parse(readFileSync(checkpointFile, 'utf8')).jobs >= 3) break;
      if (first.child.exitCode !== null) throw new Error(`the import ended before it was killed: ${first.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = JSON.parse(readFileSync(checkpointFile, 'utf8'));
    expect(atKill.done).toBe(false);
    expect(atKill.next).toBeLessThan(N);
    await service.jobs.idle();

    const second = start();
    const code = await second.exited;
    if (code !== 0) throw new Error(`the resumed import ended with ${code}: ${second.output().slice(-800)}`);
    expect(second.output()).toMatch(/Resuming after \d+ records/);
    const done = JSON.parse(readFileSync(checkpointFile, 'utf8'));
    expect(done).toMatchObject({ done: true, next: N, totals: { inserted: N, updated: 0, failed: 0, total: N } });
    expect(await usersWith('kill')).toBe(N);
  }, 240_000);
});
