import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * What a password grant sends to DynamoDB:
 * - a repeat login reads its user together with the identifier's claim (the process remembers
 *   whom the claim named). The remembered user is only a hint, checked against the claim read
 *   with it: a claim that changed hands or was retired since is answered as before;
 * - the user's login statistics go with the request's final write (the check read its count);
 *   only an imported user's first sign-in counts them with a request of its own (the import's
 *   figures count that sign-in once).
 */
let engine: EmbeddedEngine;
let dataDir: string;
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
let requests = 0;

const countingRequests = (s: TestService) =>
  s.deps.db.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequestsPerLogin' },
  );

beforeAll(async () => {
  engine = await startEmbeddedEngine();
  dataDir = mkdtempSync(join(tmpdir(), 'password-requests-'));
  service = await startTestService({ dynamoEndpoint: engine.endpoint, dataDir });
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  countingRequests(service);
});
afterAll(async () => {
  await service?.close();
  await engine?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const createUser = async (email: string, password: string): Promise<string> => {
  const res = await api.call('POST', '/api/v2/users', { token, body: { connection: service.credentials.connection.name, email, password } });
  expect(res.status).toBe(201);
  return res.body.user_id;
};

/** A password grant, its answer's subject (from the id token) and the DynamoDB requests it sent. */
async function login(username: string, password: string, via: TestService = service): Promise<{ status: number; sub?: string; requests: number }> {
  const { webClient } = via.credentials;
  const before = requests;
  const res = await via.postForm('/oauth/token', {
    grant_type: 'password', username, password, scope: 'openid', client_id: webClient.client_id, client_secret: webClient.client_secret,
  });
  const sub = res.body?.id_token ? JSON.parse(Buffer.from(res.body.id_token.split('.')[1], 'base64url').toString()).sub : undefined;
  return { status: res.status, sub, requests: requests - before };
}

describe('password grant requests', () => {
  it("a user's first login costs 4 DynamoDB requests, a repeat login of the same identifier 3, and every login is counted", async () => {
    const id = await createUser('repeat-login@example.com', 'Repeat-password-1');
    const first = await login('repeat-login@example.com', 'Repeat-password-1');
    expect(first).toMatchObject({ status: 200, sub: id, requests: 4 });
    for (let i = 0; i < 3; i++) {
      expect(await login('repeat-login@example.com', 'Repeat-password-1')).toMatchObject({ status: 200, sub: id, requests: 3 });
    }
    // A wrong password on the same path still counts a strike and answers as before.
    expect((await login('repeat-login@example.com', 'Wrong-password-1')).status).toBe(403);
    const shown = await api.call('GET', `/api/v2/users/${encodeURIComponent(id)}`, { token });
    expect(shown.body).toMatchObject({ logins_count: 4, last_ip: '127.0.0.1' });
  });

  it('a user who signed in before costs 4 requests in a process that never saw them, and its count goes on from what was read', async () => {
    const id = await createUser('returning@example.com', 'Returning-password-1');
    expect(await login('returning@example.com', 'Returning-password-1')).toMatchObject({ status: 200, sub: id, requests: 4 });
    const other = await startTestService({ dynamoEndpoint: engine.endpoint, dataDir });
    try {
      countingRequests(other);
      // Another user's login first: the tenant's configuration and signing key are then cached.
      await createUser('warming-up@example.com', 'Warming-password-1');
      expect((await login('warming-up@example.com', 'Warming-password-1', other)).status).toBe(200);
      expect(await login('returning@example.com', 'Returning-password-1', other)).toMatchObject({ status: 200, sub: id, requests: 4 });
      expect(await login('returning@example.com', 'Returning-password-1', other)).toMatchObject({ status: 200, sub: id, requests: 3 });
    } finally {
      await other.close();
    }
    expect(await login('returning@example.com', 'Returning-password-1')).toMatchObject({ status: 200, sub: id, requests: 3 });
    const shown = await api.call('GET', `/api/v2/users/${encodeURIComponent(id)}`, { token });
    expect(shown.body).toMatchObject({ logins_count: 4 });
    expect(Date.parse(shown.body.last_login)).toBeGreaterThan(Date.parse(shown.body.created_at));
  });

  it('an identifier whose user was deleted and whose email another user took logs in the new user, never the remembered one', async () => {
    const old = await createUser('taken-over@example.com', 'Old-password-1');
    expect(await login('taken-over@example.com', 'Old-password-1')).toMatchObject({ status: 200, sub: old });
    expect((await api.call('DELETE', `/api/v2/users/${encodeURIComponent(old)}`, { token })).status).toBe(204);
    const next = await createUser('taken-over@example.com', 'New-password-1');
    expect((await login('taken-over@example.com', 'Old-password-1')).status).toBe(403);
    expect(await login('taken-over@example.com', 'New-password-1')).toMatchObject({ status: 200, sub: next });
    expect(await login('taken-over@example.com', 'New-password-1')).toMatchObject({ status: 200, sub: next, requests: 3 });
  });

  it('an identifier its user moved away from (a retired claim) is refused, though the process remembers that user', async () => {
    const id = await createUser('moving-away@example.com', 'Moving-password-1');
    expect(await login('moving-away@example.com', 'Moving-password-1')).toMatchObject({ status: 200, sub: id });
    expect((await api.call('PATCH', `/api/v2/users/${encodeURIComponent(id)}`, { token, body: { email: 'moved-here@example.com' } })).status).toBe(200);
    expect((await login('moving-away@example.com', 'Moving-password-1')).status).toBe(403);
    expect(await login('moved-here@example.com', 'Moving-password-1')).toMatchObject({ status: 200, sub: id });
  });
});
