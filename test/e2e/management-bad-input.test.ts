import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManagementHandler } from '../../lambdas/handlers/create-management-handler.js';
import { createRecordingSink } from '../../lambdas/logs/log-sink.js';
import { matchRoute, routeKey, routesOf } from '../../lambdas/routes.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi, tableSnapshot } from './management-helpers.js';

/**
 * Every Management route fed wrong types, unknown fields, bad ids, bad queries, huge bodies and
 * bad JSON: each answer is a 4xx in Auth0's shape (never a 500, never a stack), names the field
 * when one is at fault, and leaves the table exactly as it was.
 */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
const ids: Record<string, string> = {};

const UPA = 'Username-Password-Authentication';
const validCreate: Record<string, () => Record<string, unknown>> = {
  connections: () => ({ name: 'Bad-Input-New', strategy: 'auth0' }),
  'migration-sources': () => ({
    name: 'src',
    provider: 'auth0',
    connection: UPA,
    credentials: { domain: 'old.auth0.com', client_id: 'c1', client_secret: 'long-enough-secret' },
  }),
  users: () => ({ connection: UPA, email: 'new-user@example.com', password: 'Long-enough-1' }),
  clients: () => ({ name: 'New client' }),
  'client-grants': () => ({ client_id: ids.spa, audience: 'https://api.dev.local/', scope: ['read:things'] }),
  hooks: () => ({ name: 'h', trigger: 'post-user-registration', url: 'https://hooks.example.com/x', secret: '0123456789abcdef0123' }),
  'resource-servers': () => ({ identifier: 'https://new-api.example/', name: 'New API', scopes: [{ value: 'read:x' }] }),
  roles: () => ({ name: 'new-role' }),
  'claim-mappings': () => ({ source: 'app_metadata.plan', claim: 'https://myapp.example/new' }),
  tickets: () => ({ user_id: 'auth0|bad-input-nobody' }),
  jobs: () => ({ user_id: 'auth0|bad-input-nobody' }),
};
/** Valid bodies of the routes under an id (`/roles/{id}/permissions`), by the part after the id. */
const validSub: Record<string, () => Record<string, unknown>> = {
  permissions: () => ({ permissions: [{ resource_server_identifier: 'https://api.dev.local/', permission_name: 'read:things' }] }),
  users: () => ({ users: [decodeURIComponent(ids.user)] }),
  roles: () => ({ roles: [ids.role] }),
};

interface Case {
  method: string;
  path: string;
  why: string;
  body?: () => unknown;
  raw?: string;
  contentType?: string;
  /** Expected status (default 400). */
  status?: number;
  /** The message must name this field. */
  field?: string;
}

const existing: Record<string, string> = {
  connections: '{conn}',
  'migration-sources': '{source}',
  users: '{user}',
  clients: '{client}',
  'client-grants': '{grant}',
  hooks: '{hook}',
  logs: '{log}',
  'resource-servers': '{rs}',
  roles: '{role}',
  'claim-mappings': '{mapping}',
};
const missing: Record<string, { absent: string; malformed: string }> = {
  connections: { absent: 'con_AAAAAAAAAAAAAAAA', malformed: 'con_short' },
  'migration-sources': { absent: 'msrc_AAAAAAAAAAAAAAAA', malformed: 'source-1' },
  users: { absent: 'auth0%7Cnobody', malformed: 'no-provider-prefix' },
  clients: { absent: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', malformed: 'bad*id' },
  'client-grants': { absent: 'cgr_AAAAAAAAAAAAAAAA', malformed: 'grant' },
  hooks: { absent: 'hk_AAAAAAAAAAAAAAAA', malformed: 'hook-1' },
  logs: { absent: '01ARZ3NDEKTSV4RRFFQ69G5FAV', malformed: 'not-a-log-id' },
  'resource-servers': { absent: 'A'.repeat(24), malformed: 'short-id' },
  roles: { absent: 'rol_AAAAAAAAAAAAAAAA', malformed: 'role-1' },
  'claim-mappings': { absent: 'clm_AAAAAAAAAAAAAAAA', malformed: 'mapping-1' },
  jobs: { absent: 'job_AAAAAAAAAAAAAAAA', malformed: 'job-1' },
};
const wrongType: Record<string, { create?: [Record<string, unknown>, string]; patch?: [Record<string, unknown>, string] }> = {
  connections: { create: [{ name: 123 }, 'name'], patch: [{ options: { import_mode: 'yes' } }, 'options.import_mode'] },
  'migration-sources': { create: [{ credentials: { domain: 42 } }, 'credentials.domain'], patch: [{ enabled: 'yes' }, 'enabled'] },
  users: { create: [{ password: 12345678 }, 'password'], patch: [{ blocked: 'true' }, 'blocked'] },
  clients: { create: [{ name: ['x'] }, 'name'], patch: [{ grant_types: 'password' }, 'grant_types'] },
  'client-grants': { create: [{ scope: 'read:things' }, 'scope'], patch: [{ scope: [1] }, 'scope.0'] },
  hooks: { create: [{ trigger: 'on-login' }, 'trigger'], patch: [{ timeout_ms: 'fast' }, 'timeout_ms'] },
  'resource-servers': { create: [{ token_lifetime: 'long' }, 'token_lifetime'], patch: [{ enforce_policies: 'yes' }, 'enforce_policies'] },
  roles: { create: [{ name: 5 }, 'name'], patch: [{ description: 5 }, 'description'] },
  'claim-mappings': { create: [{ tokens: ['refresh_token'] }, 'tokens.0'] },
};
const wrongSubType: Record<string, [Record<string, unknown>, string]> = {
  permissions: [{ permissions: [{ resource_server_identifier: 7 }] }, 'permissions.0.resource_server_identifier'],
  users: [{ users: ['no-provider-prefix'] }, 'users.0'],
  roles: [{ roles: ['role-1'] }, 'roles.0'],
};

function resource(path: string): string {
  return path.split('/')[3];
}

/** The cases for one route of the table. */
function casesFor(method: string, path: string): Case[] {
  const res = resource(path);
  const cases: Case[] = [];
  const withId = path.includes('{id}');
  const sub = withId && !path.endsWith('{id}') ? path.split('/').at(-1) : undefined;
  const concrete = withId ? path.replace('{id}', existing[res]) : path;
  if (withId) {
    cases.push({ method, path: path.replace('{id}', missing[res].malformed), why: 'malformed id' });
    cases.push({ method, path: path.replace('{id}', missing[res].absent), why: 'unknown id', status: 404 });
    cases.push({ method, path: path.replace('{id}', 'x'.repeat(300)), why: 'overlong id' });
  }
  if (path === '/api/v2/users-by-email') {
    cases.push({ method, path: `${path}?email=a%40example.com&bogus_param=1`, why: 'unknown query parameter', field: 'bogus_param' });
  } else if (method === 'GET' && !withId) {
    cases.push({ method, path: `${path}?per_page=1000`, why: 'per_page over 100', field: 'per_page' });
    cases.push({ method, path: `${path}?page=-1`, why: 'negative page', field: 'page' });
    cases.push({ method, path: `${path}?include_totals=yes`, why: 'include_totals not a boolean', field: 'include_totals' });
    cases.push({ method, path: `${path}?bogus_param=1`, why: 'unknown query parameter', field: 'bogus_param' });
  }
  if (method === 'POST' || method === 'PATCH') {
    const body = sub ? validSub[sub] : method === 'POST' ? validCreate[res] : () => (res === 'client-grants' ? { scope: ['read:logs'] } : {});
    cases.push({ method, path: concrete, why: 'unknown field', body: () => ({ ...(body() as object), bogus_field: 1 }), field: 'bogus_field' });
    const wrong = sub ? wrongSubType[sub] : method === 'POST' ? wrongType[res]?.create : wrongType[res]?.patch;
    if (wrong) {
      cases.push({ method, path: concrete, why: 'wrong type', body: () => deepMerge(body(), wrong[0]), field: wrong[1] });
    }
    cases.push({ method, path: concrete, why: 'bad JSON', raw: '{"name": ' });
    cases.push({ method, path: concrete, why: 'JSON array body', raw: '[1,2,3]' });
    cases.push({ method, path: concrete, why: 'JSON null body', raw: 'null' });
    cases.push({ method, path: concrete, why: 'non-JSON content type', raw: 'name=x', contentType: 'application/x-www-form-urlencoded' });
    cases.push({ method, path: concrete, why: 'huge body', raw: JSON.stringify({ name: 'x'.repeat(200_000) }), status: 413 });
  }
  return cases;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return b;
}

const extraCases: Case[] = [
  { method: 'GET', path: '/api/v2/users?q=password:secret', why: 'search on an unsupported field', field: 'q' },
  { method: 'GET', path: '/api/v2/users?q=%28((', why: 'search that does not parse', field: 'q' },
  { method: 'GET', path: '/api/v2/users-by-email', why: 'email missing', field: 'email' },
  { method: 'GET', path: '/api/v2/users-by-email?email=not-an-email', why: 'email malformed', field: 'email' },
  { method: 'GET', path: '/api/v2/logs?from=not-a-log-id&take=5', why: 'checkpoint from not a log id', field: 'from' },
  { method: 'GET', path: '/api/v2/logs?take=1000', why: 'take over 100', field: 'take' },
  { method: 'GET', path: '/api/v2/logs?q=ip:1.2.3.4', why: 'log search on an unsupported field', field: 'q' },
  { method: 'POST', path: '/api/v2/users', why: 'user for an unknown connection', body: () => ({ connection: 'Nope', email: 'a@example.com', password: 'Long-enough-1' }) },
  { method: 'POST', path: '/api/v2/users', why: 'email taken', body: () => ({ connection: UPA, email: 'demo@example.com', password: 'Long-enough-1' }), status: 409 },
  { method: 'POST', path: '/api/v2/connections', why: 'connection name taken', body: () => ({ name: UPA, strategy: 'auth0' }), status: 409 },
  { method: 'POST', path: '/api/v2/connections', why: 'unsupported strategy', body: () => ({ name: 'Other', strategy: 'samlp' }), field: 'strategy' },
  { method: 'POST', path: '/api/v2/hooks', why: 'hook url not https', body: () => ({ ...validCreate.hooks(), url: 'http://hooks.example.com/x' }), field: 'url' },
  { method: 'POST', path: '/api/v2/client-grants', why: 'grant scope the API does not define', body: () => ({ ...validCreate['client-grants'](), scope: ['delete:everything'] }), field: 'scope' },
  { method: 'POST', path: '/api/v2/client-grants', why: 'grant already exists', body: () => ({ client_id: ids.machine, audience: '/api/v2/', scope: ['read:users'] }), status: 409 },
  { method: 'PATCH', path: '/api/v2/users/{user}', why: 'new email held by another user', body: () => ({ email: 'demo@example.com' }), status: 409 },
  { method: 'PATCH', path: '/api/v2/connections/{conn}', why: 'name cannot change', body: () => ({ name: 'Renamed' }), field: 'name' },
  { method: 'POST', path: '/api/v2/resource-servers', why: 'identifier taken', body: () => ({ identifier: 'https://api.dev.local/', name: 'Again' }), status: 409 },
  { method: 'POST', path: '/api/v2/resource-servers', why: 'the Management API as identifier', body: () => ({ identifier: '/api/v2/', name: 'Mgmt' }), field: 'identifier' },
  { method: 'POST', path: '/api/v2/resource-servers', why: 'unsupported signing alg', body: () => ({ ...validCreate['resource-servers'](), signing_alg: 'HS256' }), field: 'signing_alg' },
  { method: 'POST', path: '/api/v2/resource-servers', why: 'lifetime over 30 days', body: () => ({ ...validCreate['resource-servers'](), token_lifetime: 2_592_001 }), field: 'token_lifetime' },
  { method: 'POST', path: '/api/v2/resource-servers', why: 'duplicate scope', body: () => ({ ...validCreate['resource-servers'](), scopes: [{ value: 'a' }, { value: 'a' }] }), field: 'scopes' },
  { method: 'PATCH', path: '/api/v2/resource-servers/{rs}', why: 'identifier cannot change', body: () => ({ identifier: 'https://other/' }), field: 'identifier' },
  { method: 'POST', path: '/api/v2/roles', why: 'role name taken', body: () => ({ name: 'fixture-role' }), status: 409 },
  { method: 'POST', path: '/api/v2/roles/{role}/permissions', why: 'permission the API does not define', body: () => ({ permissions: [{ resource_server_identifier: 'https://api.dev.local/', permission_name: 'delete:everything' }] }), field: 'permission_name' },
  { method: 'POST', path: '/api/v2/roles/{role}/permissions', why: 'permission of an unknown API', body: () => ({ permissions: [{ resource_server_identifier: 'https://nope.example/', permission_name: 'read:things' }] }), status: 404 },
  { method: 'POST', path: '/api/v2/roles/{role}/permissions', why: 'empty permission list', body: () => ({ permissions: [] }), field: 'permissions' },
  { method: 'DELETE', path: '/api/v2/roles/{role}/permissions', why: 'permissions missing', body: () => ({}), field: 'permissions' },
  { method: 'POST', path: '/api/v2/roles/{role}/users', why: 'unknown user', body: () => ({ users: ['auth0|nobody'] }), status: 404 },
  { method: 'POST', path: '/api/v2/users/{user}/roles', why: 'unknown role', body: () => ({ roles: ['rol_AAAAAAAAAAAAAAAA'] }), status: 404 },
  { method: 'DELETE', path: '/api/v2/users/{user}/roles', why: 'role id malformed', body: () => ({ roles: ['role-1'] }), field: 'roles.0' },
  { method: 'GET', path: '/api/v2/roles/{role}/users?per_page=1000', why: 'per_page over 100', field: 'per_page' },
  {
    method: 'PATCH', path: '/api/v2/connections/{conn}', why: 'upstream Management API domain not a domain', field: 'management_api.domain',
    body: () => ({ options: { configuration: { token_endpoint: 'https://old.example/oauth/token', userinfo_endpoint: 'https://old.example/userinfo', client_id: 'c1', client_secret: 'long-enough-secret', management_api: { domain: 'https://old.example/x', client_id: 'm1', client_secret: 'long-enough-secret' } } } }),
  },
  { method: 'POST', path: '/api/v2/claim-mappings', why: 'claim not namespaced', body: () => ({ source: 'app_metadata.plan', claim: 'plan' }), field: 'claim' },
  { method: 'POST', path: '/api/v2/claim-mappings', why: 'source outside the metadata', body: () => ({ source: 'password_hash', claim: 'https://x.example/p' }), field: 'source' },
  { method: 'POST', path: '/api/v2/claim-mappings', why: 'claim already mapped', body: () => ({ source: 'roles', claim: 'https://fixture.example/roles' }), status: 409 },
  ...[
    { why: 'negative', rate_limit: { requests_per_second: -5 } },
    { why: 'zero', rate_limit: { requests_per_second: 0 } },
    { why: 'absurd', rate_limit: { requests_per_second: 1_000_000 } },
    { why: 'a string', rate_limit: { requests_per_second: '20' } },
    { why: 'with an unknown field', rate_limit: { requests_per_second: 20, burst: 100 }, field: 'rate_limit' },
    { why: 'not an object', rate_limit: 20, field: 'rate_limit' },
  ].flatMap(({ why, rate_limit, field }): Case[] => [
    {
      method: 'POST',
      path: '/api/v2/migration-sources',
      why: `source rate_limit ${why}`,
      body: () => ({ ...validCreate['migration-sources'](), rate_limit }),
      field: field ?? 'rate_limit.requests_per_second',
    },
    {
      method: 'PATCH',
      path: '/api/v2/connections/{conn}',
      why: `connection rate_limit ${why}`,
      body: () => ({
        options: {
          import_mode: true,
          configuration: {
            token_endpoint: 'https://old.auth0.com/oauth/token',
            userinfo_endpoint: 'https://old.auth0.com/userinfo',
            client_id: 'c1',
            client_secret: 'long-enough-secret',
            rate_limit,
          },
        },
      }),
      field: `options.configuration.${field ?? 'rate_limit.requests_per_second'}`,
    },
    {
      method: 'PATCH',
      path: '/api/v2/connections/{conn}',
      why: `upstream Management API rate_limit ${why}`,
      body: () => ({
        options: {
          import_mode: true,
          configuration: {
            token_endpoint: 'https://old.auth0.com/oauth/token',
            userinfo_endpoint: 'https://old.auth0.com/userinfo',
            client_id: 'c1',
            client_secret: 'long-enough-secret',
            management_api: { domain: 'old.auth0.com', client_id: 'm1', client_secret: 'long-enough-secret', rate_limit },
          },
        },
      }),
      field: `options.configuration.management_api.${field ?? 'rate_limit.requests_per_second'}`,
    },
  ]),
  {
    method: 'POST',
    path: '/api/v2/migration-sources',
    why: 'source domain over plain http to a non-loopback host',
    body: () => ({ ...validCreate['migration-sources'](), credentials: { domain: 'http://old.auth0.com', client_id: 'c1', client_secret: 'long-enough-secret' } }),
    field: 'credentials.domain',
  },
  {
    method: 'POST',
    path: '/api/v2/migration-sources',
    why: 'source domain with a path',
    body: () => ({ ...validCreate['migration-sources'](), credentials: { domain: 'https://old.auth0.com/oauth', client_id: 'c1', client_secret: 'long-enough-secret' } }),
    field: 'credentials.domain',
  },
];

// The users import takes multipart/form-data, not JSON: a JSON body is refused; its other bad inputs are in import-jobs.test.ts.
const allCases: Case[] = [
  ...routesOf('management')
    .filter((r) => r.path !== '/api/v2/jobs/users-imports')
    .flatMap((r) => casesFor(r.method, r.path)),
  ...extraCases,
  { method: 'POST', path: '/api/v2/jobs/users-imports', why: 'a JSON body instead of multipart/form-data', raw: '{"users":[],"connection_id":"con_AAAAAAAAAAAAAAAA"}' },
];

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await api.call(method, path, { token, body });
    if (res.status >= 300) throw new Error(`setup ${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  ids.conn = (await ok('POST', '/api/v2/connections', { name: 'Fixture', strategy: 'auth0' })).id;
  ids.source = (await ok('POST', '/api/v2/migration-sources', validCreate['migration-sources']())).id;
  ids.user = encodeURIComponent((await ok('POST', '/api/v2/users', { connection: UPA, email: 'fixture@example.com', password: 'Long-enough-1' })).user_id);
  ids.client = (await ok('POST', '/api/v2/clients', { name: 'Fixture client' })).client_id;
  ids.spa = service.credentials.spaClient.client_id;
  ids.machine = service.credentials.machineClient.client_id;
  ids.grant = (await ok('POST', '/api/v2/client-grants', { client_id: ids.client, audience: '/api/v2/', scope: ['read:logs'] })).id;
  ids.hook = (await ok('POST', '/api/v2/hooks', { ...validCreate.hooks(), enabled: false })).id;
  ids.log = (await ok('GET', '/api/v2/logs?per_page=1'))[0].log_id;
  ids.rs = (await ok('POST', '/api/v2/resource-servers', { identifier: 'https://fixture-api.example/', name: 'Fixture API' })).id;
  ids.role = (await ok('POST', '/api/v2/roles', { name: 'fixture-role' })).id;
  ids.mapping = (await ok('POST', '/api/v2/claim-mappings', { source: 'roles', claim: 'https://fixture.example/roles' })).id;
});
afterAll(() => service?.close());

describe('bad input to the Management API', () => {
  it('covers every management route of the table', () => {
    const covered = new Set(allCases.map((c) => routeKey(matchRoute(c.method, c.path.split('?')[0].replace(/\{(\w+)\}/g, 'x'))!.route)));
    expect([...covered].sort()).toEqual(routesOf('management').map(routeKey).sort());
  });

  it.each(allCases)('$method $path — $why', async (c) => {
    const path = c.path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]);
    const before = await tableSnapshot(service);
    const res = await api.call(c.method, path, {
      token,
      ...(c.raw !== undefined ? { rawBody: c.raw, contentType: c.contentType } : c.body ? { body: c.body() } : {}),
    });
    const expected = c.status ?? 400;
    expect(res.status, res.text).toBe(expected);
    expect(Object.keys(res.body).sort()).toEqual(['error', 'errorCode', 'message', 'statusCode']);
    expect(res.body.statusCode).toBe(expected);
    expect(res.text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    if (c.field) expect(res.body.message).toContain(c.field);
    expect(await tableSnapshot(service)).toEqual(before);
  });
});

describe('unexpected failures', () => {
  it('answers a generic 500 in Auth0 shape and logs the error without its details leaking', async () => {
    const sink = createRecordingSink();
    const broken = {
      ...service.deps,
      sink,
      domainCache: new Map(),
      tenantConfigs: {
        ...service.deps.tenantConfigs,
        tenantOfDomain: async () => {
          throw new Error('table unavailable');
        },
      },
    };
    const handler = createManagementHandler(broken);
    const res = (await handler(
      {
        version: '2.0',
        routeKey: 'GET /api/v2/users',
        rawPath: '/api/v2/users',
        rawQueryString: '',
        headers: { host: service.domain, authorization: `Bearer ${token}` },
        requestContext: { http: { method: 'GET', path: '/api/v2/users', sourceIp: '127.0.0.1' } },
        isBase64Encoded: false,
      } as never,
      {} as never,
    )) as { statusCode: number; body: string };
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'An unexpected error occurred.', errorCode: 'internal_error' });
    expect(sink.lines.some((l) => l.includes('unhandled_error') && l.includes('table unavailable'))).toBe(true);
    for (const line of sink.lines) expect(line).not.toMatch(/\s{2,}at |"stack"/);
  });
});
