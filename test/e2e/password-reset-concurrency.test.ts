import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { createUser } from '../../lambdas/identity/create-user.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { lastMailTo, postJsonFrom } from '../support/password-reset.js';

/**
 * Two service processes on one engine, concurrent clients: the (IP, email) limit of
 * change_password holds fleet-wide, and a reset link is used exactly once however many
 * submissions race on however many processes.
 */
let engine: EmbeddedEngine;
let dataDir: string;
let a: TestService;
let b: TestService;

beforeAll(async () => {
  engine = await startEmbeddedEngine();
  dataDir = mkdtempSync(join(tmpdir(), 'reset-concurrency-'));
  a = await startTestService({ dynamoEndpoint: engine.endpoint, dataDir });
  b = await startTestService({ dynamoEndpoint: engine.endpoint, dataDir });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await engine?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function newUser() {
  const email = `race-${randomBytes(4).toString('hex')}@example.com`;
  const { tenant, connection } = a.credentials;
  const config = await a.deps.tenantConfigs.load(tenant);
  await createUser(a.deps, { tenant, connection: config!.connections.get(connection.id)!, profile: { email }, password: 'Initial-pass-1' });
  return email;
}

describe('password reset across processes', () => {
  it('20 concurrent change_password requests from one IP for one email on two processes: exactly 10 pass', async () => {
    const email = await newUser();
    const body = { client_id: a.credentials.webClient.client_id, email, connection: a.credentials.connection.name };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => postJsonFrom(i % 2 ? a : b, '127.0.0.4', '/dbconnections/change_password', body)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('one link submitted 6 times at once on two processes changes the password once', async () => {
    const email = await newUser();
    await postJsonFrom(a, '127.0.0.1', '/dbconnections/change_password', { client_id: a.credentials.webClient.client_id, email, connection: a.credentials.connection.name });
    const link = lastMailTo(a, email)!.path!;
    const forms = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const service = i % 2 ? a : b;
        const page = await fetch(`${service.url}${link}`);
        const html = await page.text();
        const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1];
        return { service, cookie: page.headers.getSetCookie()[0].split(';')[0], ticket: field('ticket'), csrf: field('csrf'), password: `Racing-pass-${i}A` };
      }),
    );
    const results = await Promise.all(
      forms.map(async (f) => {
        const res = await fetch(`${f.service.url}/u/reset-password`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: f.cookie },
          body: new URLSearchParams({ ticket: f.ticket, csrf: f.csrf, password: f.password, password_confirm: f.password }),
        });
        return res.status;
      }),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(1);
    expect(results.filter((s) => s === 400)).toHaveLength(5);
  });
});
