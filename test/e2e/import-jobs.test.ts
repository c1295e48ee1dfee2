import { readFileSync } from 'node:fs';
import { AuthenticationClient } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { getJson, importAndWait, postImport } from '../support/import-jobs.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { authEvents } from '../support/migration-source.js';
import { managementApi, tableSnapshot } from './management-helpers.js';

/**
 * Auth0's bulk import over real HTTP: a users file in Auth0's format posted as multipart, run
 * out of the request by the local queue, read back with Auth0's job and errors shapes.
 */
const FIXTURE = readFileSync(new URL('../fixtures/auth0-import/users.json', import.meta.url), 'utf8');
let service: TestService;
let token: string;
let auth: AuthenticationClient;

beforeAll(async () => {
  service = await startTestService();
  token = await managementApi(service).token(service.credentials.machineClient);
  const c = service.credentials;
  auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
});
afterAll(async () => {
  await service?.close();
});

const login = (username: string, password: string) =>
  auth.oauth.passwordGrant({ username, password, realm: service.credentials.connection.name, scope: 'openid profile email' });

describe('POST /api/v2/jobs/users-imports with a file in Auth0 format', () => {
  let job: any;
  let errors: any[];
  let created: any;
  beforeAll(async () => {
    const posted = await postImport(service, token, { users: FIXTURE, connection_id: service.credentials.connection.id, external_id: 'batch-1' });
    created = posted;
    await service.jobs.idle();
    job = (await getJson(service, token, `/api/v2/jobs/${posted.body.id}`)).body;
    errors = (await getJson(service, token, `/api/v2/jobs/${posted.body.id}/errors`)).body;
  });

  it('answers 201 with a pending users_import job as Auth0 does', () => {
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'pending',
      type: 'users_import',
      connection_id: service.credentials.connection.id,
      connection: service.credentials.connection.name,
      upsert: false,
      external_id: 'batch-1',
      send_completion_email: true,
    });
    expect(created.body.id).toMatch(/^job_[A-Za-z0-9]{16}$/);
    expect(Date.parse(created.body.created_at)).not.toBeNaN();
  });

  it('completes with a summary: the valid users inserted, every invalid one failed, none stopping the others', () => {
    expect(job).toMatchObject({ status: 'completed', summary: { inserted: 3, updated: 0, failed: 7, total: 10 }, percentage_done: 100 });
  });

  it('lists each invalid user with Auth0 error codes and paths, without any password hash', () => {
    const byEmail = new Map(errors.map((e) => [typeof e.user === 'object' ? e.user.email ?? e.user.name : e.user, e.errors]));
    expect(byEmail.get('not-an-email')).toEqual([expect.objectContaining({ code: 'INVALID_FORMAT', path: 'email' })]);
    expect(byEmail.get('reserved.key@example.com')).toEqual([expect.objectContaining({ path: 'app_metadata.clientID' })]);
    expect(byEmail.get('bad.bcrypt@example.com')).toEqual([expect.objectContaining({ code: 'INVALID_FORMAT', path: 'password_hash' })]);
    expect(byEmail.get('bad.custom@example.com')).toEqual([expect.objectContaining({ code: 'INVALID_FORMAT', path: 'custom_password_hash' })]);
    expect(byEmail.get('extra.field@example.com')).toEqual([expect.objectContaining({ code: 'OBJECT_ADDITIONAL_PROPERTIES' })]);
    expect(byEmail.get('No Email At All')).toEqual([expect.objectContaining({ code: 'OBJECT_MISSING_REQUIRED_PROPERTY' })]);
    expect(byEmail.get('not an object')).toEqual([expect.objectContaining({ code: 'INVALID_TYPE' })]);
    expect(JSON.stringify(errors)).not.toContain('$1$not-bcrypt');
  });

  it('keeps Auth0 user ids (a bare id gets auth0|, provider|id stays) and records the arrival', async () => {
    const api = managementApi(service);
    const ada = await api.call('GET', `/api/v2/users/${encodeURIComponent('auth0|5f8a1c2e9b1e8a0071a0b001')}`, { token });
    expect(ada.status).toBe(200);
    expect(ada.body).toMatchObject({
      email: 'ada.bcrypt@example.com',
      email_verified: true,
      name: 'Ada Lovelace',
      app_metadata: { plan: 'gold', roles: ['admin'] },
      user_metadata: { theme: 'dark' },
      identities: [{ provider: 'auth0', user_id: '5f8a1c2e9b1e8a0071a0b001', connection: service.credentials.connection.name, isSocial: false }],
      arrival: { via: 'import', source: job.id },
    });
    const grace = await api.call('GET', `/api/v2/users/${encodeURIComponent('auth0|5f8a1c2e9b1e8a0071a0b002')}`, { token });
    expect(grace.body).toMatchObject({ username: 'grace', email_verified: false });
    // The custom hash is stored verbatim and marked as imported, for the login-time check.
    const stored = await service.deps.users.getUserWithPassword(service.credentials.tenant, 'auth0|5f8a1c2e9b1e8a0071a0b002');
    expect(stored.password).toMatchObject({ origin: 'import', custom_password_hash: { algorithm: 'sha256' } });
    expect(stored.password?.hash).toBeUndefined();
    const tail = await api.call('GET', `/api/v2/users-by-email?email=no.password@example.com`, { token });
    expect(tail.body).toHaveLength(1);
  });

  it('lets a user imported with a bcrypt hash sign in with their old password, as the same user', async () => {
    const res = await login('ada.bcrypt@example.com', 'Imported-pw-1');
    expect(decodeJwt(res.data.id_token!).sub).toBe('auth0|5f8a1c2e9b1e8a0071a0b001');
  });

  it('logs the completed job as sui with its summary', () => {
    const sui = authEvents(service.logLines).find((e) => e.type === 'sui' && e.details?.job_id === job.id);
    expect(sui).toMatchObject({ connection_id: service.credentials.connection.id, details: { summary: { inserted: 3, failed: 7, total: 10 } } });
  });

  it('refuses a second import of the same users without upsert (DUPLICATED_USER) and writes nothing for them', async () => {
    const again = await importAndWait(service, token, { users: FIXTURE, connection_id: service.credentials.connection.id });
    expect(again.summary).toEqual({ inserted: 0, updated: 0, failed: 10, total: 10 });
    const errs = (await getJson(service, token, `/api/v2/jobs/${again.id}/errors`)).body as any[];
    expect(errs.find((e) => e.user.email === 'ada.bcrypt@example.com').errors[0].code).toBe('DUPLICATED_USER');
    expect(errs.find((e) => e.user.email === 'no.password@example.com').errors[0].code).toBe('DUPLICATED_USER');
  });

  it('with upsert, merges profile fields and metadata by Auth0 rules and keeps the identifiers', async () => {
    const file = JSON.stringify([
      { email: 'ada.bcrypt@example.com', user_id: '5f8a1c2e9b1e8a0071a0b001', name: 'Ada King', app_metadata: { tier: 2 }, blocked: true },
    ]);
    const done = await importAndWait(service, token, { users: file, connection_id: service.credentials.connection.id, upsert: true });
    expect(done.summary).toEqual({ inserted: 0, updated: 1, failed: 0, total: 1 });
    const ada = await managementApi(service).call('GET', `/api/v2/users/${encodeURIComponent('auth0|5f8a1c2e9b1e8a0071a0b001')}`, { token });
    expect(ada.body).toMatchObject({ name: 'Ada King', given_name: 'Ada', blocked: true, app_metadata: { plan: 'gold', roles: ['admin'], tier: 2 }, user_metadata: { theme: 'dark' } });
  });
});

describe('refused import requests: an Auth0 error, and nothing written', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
    ['an unknown connection', () => postImport(service, token, { users: '[{"email":"a@example.com"}]', connection_id: 'con_AAAAAAAAAAAAAAAA' }), 400, 'inexistent_connection'],
    ['a file that is not JSON', () => postImport(service, token, { users: '[{"email": "a@example.com",', connection_id: service.credentials.connection.id }), 400, 'invalid_body'],
    ['a file that is not an array', () => postImport(service, token, { users: '{"email":"a@example.com"}', connection_id: service.credentials.connection.id }), 400, 'invalid_body'],
    ['an empty array', () => postImport(service, token, { users: '[]', connection_id: service.credentials.connection.id }), 400, 'invalid_body'],
    [
      'a file just over 500 KB',
      () => {
        const users = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `user${i}@example.com`, name: 'x'.repeat(60) }));
        let n = 4900;
        let big = JSON.stringify(users(n));
        while (Buffer.byteLength(big) <= 500 * 1024) big = JSON.stringify(users((n += 5)));
        expect(Buffer.byteLength(big)).toBeLessThan(510 * 1024);
        return postImport(service, token, { users: big, connection_id: service.credentials.connection.id });
      },
      413,
      'payload_too_large',
    ],
    [
      'a request far over the limit',
      () => postImport(service, token, { users: `[${'"x",'.repeat(300_000)}"x"]`, connection_id: service.credentials.connection.id }),
      413,
      'payload_too_large',
    ],
    ['a body that is not multipart', () => managementApi(service).call('POST', '/api/v2/jobs/users-imports', { token, body: { users: [] } }), 400, 'invalid_body'],
    ['a bad upsert flag', () => postImport(service, token, { users: '[{"email":"a@example.com"}]', connection_id: service.credentials.connection.id, upsert: 'yes' as never }), 400, 'invalid_body'],
  ];
  for (const [name, send, status, errorCode] of cases) {
    it(`${name}: ${status} ${errorCode}`, async () => {
      const before = await tableSnapshot(service);
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ statusCode: status, errorCode });
      expect(res.body.message).toEqual(expect.any(String));
      expect(await tableSnapshot(service)).toEqual(before);
    });
  }

  it('needs create:users', async () => {
    const api = managementApi(service);
    const readOnly = await api.token(service.credentials.machineClient, service.domain, 'read:users');
    const res = await postImport(service, readOnly, { users: '[{"email":"a@example.com"}]', connection_id: service.credentials.connection.id });
    expect(res).toMatchObject({ status: 403, body: { errorCode: 'insufficient_scope' } });
  });

  it('answers 404 inexistent_job for an unknown job', async () => {
    const res = await getJson(service, token, '/api/v2/jobs/job_AAAAAAAAAAAAAAAA');
    expect(res).toMatchObject({ status: 404, body: { errorCode: 'inexistent_job' } });
  });
});

describe('identifier claims of imported users', () => {
  it('an imported email is claimed, so nobody else can sign up or be created with it', async () => {
    const c = service.credentials;
    const claim = await service.deps.users.claimOf(keys.emailClaim(c.tenant, c.connection.id, 'no.password@example.com'));
    expect(claim?.user_id).toMatch(/^auth0\|[0-9a-f]{24}$/);
  });
});

describe('the drain view of imports', () => {
  it('counts imported users and takes out those who signed in since', async () => {
    const api = managementApi(service);
    const before = (await api.call('GET', '/api/v2/stats/migration', { token })).body.imported;
    const users = [0, 1, 2].map((i) => ({ email: `drain${i}@example.com`, user_id: `drain0000${i}`, password_hash: '$2b$04$rSAWR57ejjPSO7pUnZGmZ.9AoWhOCYZupP5Pj786c5ico8hCgqNXy' }));
    await importAndWait(service, token, { users: JSON.stringify(users), connection_id: service.credentials.connection.id });
    await login('drain1@example.com', 'Imported-pw-1');
    await login('drain1@example.com', 'Imported-pw-1'); // a second login is not a second user signing in
    const after = (await api.call('GET', '/api/v2/stats/migration', { token })).body.imported;
    expect(after.users - before.users).toBe(3);
    expect(after.signed_in_since_import - before.signed_in_since_import).toBe(1);
    expect(after.not_signed_in_since_import - before.not_signed_in_since_import).toBe(2);
  });

  it("an imported user's first two sign-ins at once count one user signed in", async () => {
    const api = managementApi(service);
    const before = (await api.call('GET', '/api/v2/stats/migration', { token })).body.imported;
    const users = [{ email: 'drain-together@example.com', user_id: 'draintogether', password_hash: '$2b$04$rSAWR57ejjPSO7pUnZGmZ.9AoWhOCYZupP5Pj786c5ico8hCgqNXy' }];
    await importAndWait(service, token, { users: JSON.stringify(users), connection_id: service.credentials.connection.id });
    await Promise.all([login('drain-together@example.com', 'Imported-pw-1'), login('drain-together@example.com', 'Imported-pw-1')]);
    const after = (await api.call('GET', '/api/v2/stats/migration', { token })).body.imported;
    expect(after.signed_in_since_import - before.signed_in_since_import).toBe(1);
  });
});
