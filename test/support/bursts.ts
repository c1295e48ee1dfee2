/**
 * Bursts of real traffic against a local service, shared by the hot-key test and the hot-key
 * bench: many different users at once, as on flip day (logins, refreshes, first logins that
 * migrate through the password fallback) and during a bulk import (Management API creations).
 * Each returns the number of requests that did not succeed (expected 0).
 */
import { randomBytes } from 'node:crypto';
import type { LocalServer } from '../../bin/local/server.js';
import { createUser } from '../../lambdas/identity/create-user.js';
import { PASSWORD_REALM_GRANT } from '../../lambdas/migration/upstream-client.js';
import type { FakeUpstream } from './fake-upstream.js';

export const BURST_PASSWORD = 'Burst-password-1';

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight; counts failures. */
export async function inParallel(n: number, concurrency: number, task: (i: number) => Promise<boolean>): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      if (!(await task(i).catch(() => false))) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return failed;
}

async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const label = () => randomBytes(4).toString('hex');

/** Local users with a password, created directly (setup, not part of a burst). */
export async function seedLocalUsers(server: LocalServer, n: number, concurrency = 16): Promise<string[]> {
  const { tenant, connection } = server.credentials;
  const config = await server.deps.tenantConfigs.load(tenant);
  const record = config!.connections.get(connection.id)!;
  const run = label();
  const emails = Array.from({ length: n }, (_, i) => `burst-${run}-${i}@example.com`);
  const failed = await inParallel(n, concurrency, async (i) => {
    const out = await createUser(server.deps, { tenant, connection: record, profile: { email: emails[i] }, password: BURST_PASSWORD });
    return out.outcome === 'created';
  });
  if (failed) throw new Error(`${failed} users could not be seeded`);
  return emails;
}

function passwordLogin(server: LocalServer, username: string) {
  const { webClient, connection } = server.credentials;
  return postForm(`${server.url}/oauth/token`, {
    grant_type: PASSWORD_REALM_GRANT,
    realm: connection.name,
    username,
    password: BURST_PASSWORD,
    scope: 'openid profile email offline_access',
    client_id: webClient.client_id,
    client_secret: webClient.client_secret,
  });
}

/** One password login per user; returns the failures and the refresh tokens issued. */
export async function burstLogins(server: LocalServer, emails: string[], concurrency = 16) {
  const refreshTokens: string[] = [];
  const failed = await inParallel(emails.length, concurrency, async (i) => {
    const res = await passwordLogin(server, emails[i]);
    if (res.body.refresh_token) refreshTokens.push(res.body.refresh_token);
    return res.status === 200;
  });
  return { failed, refreshTokens };
}

/** One refresh grant per token. */
export function burstRefreshes(server: LocalServer, refreshTokens: string[], concurrency = 16): Promise<number> {
  const { webClient } = server.credentials;
  return inParallel(refreshTokens.length, concurrency, async (i) => {
    const res = await postForm(`${server.url}/oauth/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshTokens[i],
      client_id: webClient.client_id,
      client_secret: webClient.client_secret,
    });
    return res.status === 200;
  });
}

/** First logins of users who exist only upstream: each migrates through the password fallback. */
export function burstFallbackMigrations(server: LocalServer, upstream: FakeUpstream, n: number, concurrency = 16): Promise<number> {
  const run = label();
  const emails = Array.from({ length: n }, (_, i) => upstream.addUser({ email: `upstream-${run}-${i}@example.com`, password: BURST_PASSWORD }).email);
  return inParallel(n, concurrency, async (i) => (await passwordLogin(server, emails[i])).status === 200);
}

/** A bulk import through the Management API: one `POST /api/v2/users` per user. */
export async function burstUserCreations(server: LocalServer, n: number, concurrency = 16): Promise<number> {
  const host = new URL(server.url).host;
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': host };
  const { machineClient, connection } = server.credentials;
  const token = await postForm(
    `${server.url}/oauth/token`,
    { grant_type: 'client_credentials', client_id: machineClient.client_id, client_secret: machineClient.client_secret, audience: `https://${host}/api/v2/` },
    forwarded,
  );
  if (!token.body.access_token) throw new Error(`no management token: ${token.status}`);
  const run = label();
  return inParallel(n, concurrency, async (i) => {
    const res = await fetch(`${server.url}/api/v2/users`, {
      method: 'POST',
      headers: { ...forwarded, 'content-type': 'application/json', authorization: `Bearer ${token.body.access_token}` },
      body: JSON.stringify({ connection: connection.name, email: `import-${run}-${i}@example.com`, password: BURST_PASSWORD }),
    });
    await res.arrayBuffer();
    return res.status === 201;
  });
}
