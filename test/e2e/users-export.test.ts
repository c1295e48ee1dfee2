import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAndWait } from '../support/import-jobs.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi, tableSnapshot } from './management-helpers.js';

/**
 * Users exports over HTTP, as Auth0's `POST /api/v2/jobs/users-exports`: the job answers
 * `pending`, runs out of the request, and `GET /api/v2/jobs/{id}` then gives the gzipped file's
 * location (locally a file:// URL). The file holds what `GET /api/v2/users` shows for the connection.
 */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
let connection: { id: string; name: string };

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const conn = await api.call('POST', '/api/v2/connections', { token, body: { name: 'export-db', strategy: 'auth0', enabled_clients: [service.credentials.webClient.client_id] } });
  expect(conn.status).toBe(201);
  connection = { id: conn.body.id, name: conn.body.name };
  const people = [
    { email: 'ada@example.com', name: 'Ada Lovelace', user_metadata: { plan: 'pro' }, app_metadata: { tier: 1 } },
    { email: 'bob@example.com', name: 'Doe, "JD" Bob', user_metadata: { plan: 'free' } },
    { email: 'cy@example.com', name: 'Cy', user_metadata: { plan: 'two\nlines' } },
  ];
  for (const p of people) {
    const res = await api.call('POST', '/api/v2/users', { token, body: { connection: connection.name, password: 'Export-pass-1', ...p } });
    expect(res.status, res.text).toBe(201);
  }
  // One login, so the export carries login statistics as the listing shows them.
  const web = service.credentials.webClient;
  const login = await service.postForm('/oauth/token', { grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: connection.name, username: 'ada@example.com', password: 'Export-pass-1', client_id: web.client_id, client_secret: web.client_secret });
  expect(login.status).toBe(200);
});
afterAll(() => service?.close());

async function completed(id: string) {
  for (let i = 0; i < 500; i++) {
    const res = await api.call('GET', `/api/v2/jobs/${id}`, { token });
    expect(res.status).toBe(200);
    if (res.body.status === 'completed' || res.body.status === 'failed') return res.body;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the export did not end');
}

const fileText = (location: string) => gunzipSync(readFileSync(fileURLToPath(location))).toString('utf8');

async function listing() {
  const res = await api.call('GET', `/api/v2/users?q=${encodeURIComponent(`identities.connection:"${connection.name}"`)}&per_page=100`, { token });
  expect(res.status).toBe(200);
  return (res.body as any[]).sort((a, b) => a.user_id.localeCompare(b.user_id));
}

const fields = [
  { name: 'user_id' },
  { name: 'email' },
  { name: 'name' },
  { name: 'user_metadata.plan', export_as: 'plan' },
  { name: 'identities[0].connection', export_as: 'connection' },
  { name: 'logins_count' },
  { name: 'app_metadata' },
];

describe('POST /api/v2/jobs/users-exports', () => {
  it('ndjson with chosen fields: one line per user of the connection, as the users listing shows them', async () => {
    const res = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { connection_id: connection.id, format: 'ndjson', fields } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      type: 'users_export',
      status: 'pending',
      connection_id: connection.id,
      connection: connection.name,
      format: 'ndjson',
      fields,
      id: expect.stringMatching(/^job_[0-9a-f]{16}$/),
      created_at: expect.any(String),
    });
    const job = await completed(res.body.id);
    expect(job).toMatchObject({ status: 'completed', type: 'users_export', location: expect.stringMatching(/^file:\/\//) });

    const lines = fileText(job.location).trimEnd().split('\n').map((l) => JSON.parse(l));
    const users = await listing();
    expect(users).toHaveLength(3);
    expect(lines.sort((a, b) => a.user_id.localeCompare(b.user_id))).toEqual(
      users.map((u) => ({
        user_id: u.user_id,
        email: u.email,
        name: u.name,
        ...(u.user_metadata.plan ? { plan: u.user_metadata.plan } : {}),
        connection: connection.name,
        logins_count: u.logins_count,
        app_metadata: u.app_metadata,
      })),
    );
    expect(lines.find((l) => l.email === 'ada@example.com')!.logins_count).toBe(1);
  });

  it('csv with chosen fields: a header of the export names, then one quoted-where-needed row per user', async () => {
    const res = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { connection_id: connection.id, format: 'csv', fields } });
    expect(res.status).toBe(201);
    const job = await completed(res.body.id);
    const text = fileText(job.location);
    const users = await listing();
    const cell = (v: unknown) => {
      if (v === undefined || v === null) return '';
      const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const expected = [
      'user_id,email,name,plan,connection,logins_count,app_metadata',
      ...users.map((u) => [u.user_id, u.email, u.name, u.user_metadata.plan, connection.name, u.logins_count, u.app_metadata].map(cell).join(',')),
    ];
    const rows = text.split('\r\n').filter(Boolean);
    // The multi-line plan stays one quoted cell; rows may come in any order after the header.
    expect(text.startsWith(expected[0] + '\r\n')).toBe(true);
    expect(new Set(text.slice(expected[0].length + 2).split(/\r\n(?=auth0\|)/).map((r) => r.replace(/\r\n$/, '')))).toEqual(new Set(expected.slice(1)));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(text).toContain('"Doe, ""JD"" Bob"');
  });

  it('without fields, exports Auth0-like default columns; limit caps the users', async () => {
    const res = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { connection_id: connection.id, limit: 2 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ format: 'ndjson', limit: 2 });
    const job = await completed(res.body.id);
    const lines = fileText(job.location).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Object.keys(lines[0])).toEqual(expect.arrayContaining(['user_id', 'email', 'email_verified', 'created_at', 'identities', 'logins_count']));
  });

  it('without connection_id, exports the users of every connection', async () => {
    const res = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { fields: [{ name: 'email' }] } });
    const job = await completed(res.body.id);
    const emails = fileText(job.location).trimEnd().split('\n').map((l) => JSON.parse(l).email);
    expect(emails).toEqual(expect.arrayContaining(['ada@example.com', service.credentials.demoUser.email]));
  });

  it('streams more users than a page (250 more, imported): each once, in the listing order', async () => {
    const users = Array.from({ length: 250 }, (_, i) => ({ email: `paged${String(i).padStart(3, '0')}@example.com`, user_id: `paged${String(i).padStart(3, '0')}` }));
    const imported = await importAndWait(service, token, { users: JSON.stringify(users), connection_id: connection.id });
    expect(imported.summary).toMatchObject({ inserted: 250, failed: 0 });
    const res = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { connection_id: connection.id, format: 'csv', fields: [{ name: 'user_id' }, { name: 'email' }] } });
    const job = await completed(res.body.id);
    expect(job.status).toBe('completed');
    const rows = fileText(job.location).split('\r\n').filter(Boolean);
    expect(rows[0]).toBe('user_id,email');
    const ids = rows.slice(1).map((r) => r.split(',')[0]);
    expect(ids).toHaveLength(253);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids)).toEqual(new Set([...users.map((u) => `auth0|${u.user_id}`), ...(await listing()).filter((u) => !u.user_id.startsWith('auth0|paged')).map((u) => u.user_id)]));
  });

  it('a job whose worker fails every attempt ends failed, never stuck in processing, and has no location', async () => {
    const files = service.managementDeps.jobs!.exportFiles;
    let writes = 0;
    service.managementDeps.jobs = {
      exportFiles: {
        ...files,
        async write() {
          writes++;
          throw Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: {} });
        },
      },
    };
    try {
      const res = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { connection_id: connection.id } });
      expect(res.status).toBe(201);
      const job = await completed(res.body.id);
      expect(job.status).toBe('failed');
      expect(job.location).toBeUndefined();
      expect(writes).toBeGreaterThan(1);
    } finally {
      service.managementDeps.jobs = { exportFiles: files };
    }
  });

  it.each([
    ['an unknown connection', { connection_id: 'con_doesnotexist00' }, 'inexistent_connection', /connection does not exist/],
    ['an unknown field', { connection_id: 'x', fields: [{ name: 'password_hash' }] }, 'invalid_body', /Invalid field name: password_hash/],
    ['a malformed field path', { fields: [{ name: 'user_metadata..x' }] }, 'invalid_body', /Invalid field name/],
    ['a field without a name', { fields: [{ export_as: 'x' }] }, 'invalid_body', /Missing required property: name/],
    ['fields that are not an array', { fields: 'email' }, 'invalid_body', /fields/],
    ['two columns of one name', { fields: [{ name: 'email' }, { name: 'name', export_as: 'email' }] }, 'invalid_body', /Duplicate export name: email/],
    ['an unknown format', { format: 'xml' }, 'invalid_body', /format/],
    ['a limit of 0', { limit: 0 }, 'invalid_body', /limit/],
    ['an unknown property', { connection: 'export-db' }, 'invalid_body', /Additional properties not allowed: connection/],
  ])('refuses %s with an Auth0-shaped 400 and records no job', async (_name, body, errorCode, message) => {
    const before = await tableSnapshot(service);
    const res = await api.call('POST', '/api/v2/jobs/users-exports', { token, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errorCode });
    expect(res.body.message).toMatch(message);
    expect((await tableSnapshot(service)).filter((i) => !i.includes('#LOG') && !i.includes('MIGRATION'))).toEqual(before.filter((i) => !i.includes('#LOG') && !i.includes('MIGRATION')));
  });

  it('needs read:users', async () => {
    const narrow = await api.token(service.credentials.machineClient, service.domain, 'read:clients');
    const res = await api.call('POST', '/api/v2/jobs/users-exports', { token: narrow, body: {} });
    expect(res).toMatchObject({ status: 403, body: { errorCode: 'insufficient_scope' } });
  });

  it('GET /api/v2/jobs/{id} of an unknown job is 404; a malformed id is 400', async () => {
    expect(await api.call('GET', '/api/v2/jobs/job_0000000000000000', { token })).toMatchObject({ status: 404, body: { errorCode: 'inexistent_job' } });
    expect((await api.call('GET', '/api/v2/jobs/not-a-job', { token })).status).toBe(400);
  });
});
