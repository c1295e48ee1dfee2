import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationClient } from 'auth0';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../bin/import-tenant.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { tableSnapshot } from './management-helpers.js';

/**
 * `npm run import-tenant` against a running service: the old tenant's configuration read from
 * the fake upstream's Management API, or from hand-written Deploy CLI exports (directory and
 * YAML); a dry run that changes nothing, an apply after which the old apps log in with their
 * old client_id and secret, a second run that changes nothing, and a report of what was skipped.
 */
let service: TestService;
let upstream: FakeUpstream;
let dir: string;
const UPA = 'Username-Password-Authentication';
const ORDERS = 'https://orders.example/';
const reader = { client_id: 'upstream-config-reader', client_secret: 'reader-secret-0123456789abcdef' };
const legacyWeb = { client_id: 'LegacyWebApp0000000000000000001', client_secret: 'legacy-web-secret-0123456789abcdefghij' };
const legacyMachine = { client_id: 'LegacyMachine00000000000000001', client_secret: 'legacy-m2m-secret-0123456789abcdefghij' };

async function run(args: string[]) {
  let out = '';
  let err = '';
  const m = service.credentials.machineClient;
  const result = await main([...args, '--target', service.url, '--client-id', m.client_id, '--client-secret', m.client_secret], {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    env: {},
  });
  return { ...result, out, err };
}

const fromUpstream = ['--from-upstream', '', '--upstream-client-id', reader.client_id, '--upstream-client-secret', reader.client_secret];

function passwordLogin(client: { client_id: string; client_secret: string }, opts: { audience?: string } = {}) {
  const c = service.credentials;
  const auth = new AuthenticationClient({ domain: service.domain, clientId: client.client_id, clientSecret: client.client_secret, fetch: httpsToLocalFetch(service) });
  return auth.oauth.passwordGrant({ username: c.demoUser.email, password: c.demoUser.password, realm: UPA, scope: 'openid offline_access', ...opts });
}

beforeAll(async () => {
  [service, upstream] = await Promise.all([startTestService(), startFakeUpstream()]);
  fromUpstream[1] = upstream.url;
  dir = mkdtempSync(join(tmpdir(), 'import-tenant-'));
  const m = upstream.management;
  m.addClient({ ...reader, scopes: ['read:clients', 'read:client_keys', 'read:resource_servers', 'read:roles', 'read:client_grants', 'read:connections'] });
  m.addApplication({ client_id: 'GlobalClient', name: 'All Applications', global: true });
  m.addApplication({
    ...legacyWeb, name: 'Legacy Web', app_type: 'regular_web', token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['password', 'http://auth0.com/oauth/grant-type/password-realm', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    callbacks: ['https://legacy.example/callback', 'https://*.legacy.example/callback'],
  });
  m.addApplication({ ...legacyMachine, name: 'Legacy Worker', app_type: 'non_interactive', grant_types: ['client_credentials'] });
  m.addResourceServer({ identifier: `${upstream.issuer}api/v2/`, name: 'Auth0 Management API', is_system: true, scopes: [{ value: 'read:users' }] });
  m.addResourceServer({ identifier: ORDERS, name: 'Orders', scopes: [{ value: 'read:orders' }, { value: 'write:orders' }], enforce_policies: true, token_dialect: 'access_token_authz', allow_offline_access: true, token_lifetime: 900 });
  m.addResourceServer({ identifier: 'https://legacy-hs.example/', name: 'Legacy HS', signing_alg: 'HS256' });
  m.addClientGrant({ client_id: legacyMachine.client_id, audience: ORDERS, scope: ['read:orders'] });
  m.addClientGrant({ client_id: legacyMachine.client_id, audience: `${upstream.issuer}api/v2/`, scope: ['read:users'] });
  const role = m.addRole({ name: 'orders-reader', description: 'Reads orders' });
  role.permissions.push({ resource_server_identifier: ORDERS, permission_name: 'read:orders' });
  m.addConnection({ name: UPA, strategy: 'auth0', options: { passwordPolicy: 'good' }, enabled_clients: [legacyWeb.client_id] });
});
afterAll(async () => {
  await Promise.all([service?.close(), upstream?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('import-tenant from the upstream Management API', () => {
  it('a dry run prints the plan and what it skips, and changes nothing', async () => {
    const before = await tableSnapshot(service);
    const res = await run(fromUpstream);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toContain('Dry run: nothing was changed');
    expect(res.out).toContain(`+ create client "Legacy Web" keeping client_id ${legacyWeb.client_id}`);
    expect(res.out).toContain(`+ create API "${ORDERS}"`);
    expect(res.out).toContain('+ enable 1 client(s) on connection "Username-Password-Authentication"');
    expect(res.out).toContain('+ add 1 permission(s) to role "orders-reader"');
    for (const reason of [
      `client "All Applications": the tenant's global client`,
      'the upstream Management API is not imported',
      'signing_alg HS256 is not supported here',
      'grants for the upstream Management API are not imported',
    ]) {
      expect(res.out).toContain(reason);
    }
    expect(res.out).toContain('grant types not supported here were left out: urn:ietf:params:oauth:grant-type:device_code');
    expect(res.out).not.toContain(legacyWeb.client_secret);
    // Only the log of the token request is new: no configuration was written.
    const added = (await tableSnapshot(service)).filter((i) => !before.includes(i));
    expect(added.every((i) => JSON.parse(i).pk.includes('#LOG'))).toBe(true);
  });

  it('apply: the old apps work with their old client_id and secret, with the old APIs, grants and roles', async () => {
    const res = await run([...fromUpstream, '--apply']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.outcome!.applied!.every((a) => a.ok)).toBe(true);

    const login = await passwordLogin(legacyWeb, { audience: ORDERS });
    expect(decodeJwt(login.data.access_token)).toMatchObject({ azp: legacyWeb.client_id, aud: [ORDERS, `https://${service.domain}/userinfo`], permissions: [] });
    expect(login.data.refresh_token).toBeTruthy();
    expect(login.data.expires_in).toBe(900);

    const m2m = await service.postForm('/oauth/token', { grant_type: 'client_credentials', ...legacyMachine, audience: ORDERS });
    expect(m2m.status, JSON.stringify(m2m.body)).toBe(200);
    expect(decodeJwt(m2m.body.access_token)).toMatchObject({ sub: `${legacyMachine.client_id}@clients`, permissions: ['read:orders'] });
  });

  it('a second run plans nothing and reports everything as there already', async () => {
    const before = await tableSnapshot(service);
    const res = await run([...fromUpstream, '--apply']);
    expect(res.code, res.err).toBe(0);
    expect(res.outcome!.plan.steps).toEqual([]);
    expect(res.out).toContain(`client "Legacy Web": exists already`);
    expect(res.out).toContain(`role "orders-reader": exists already with these permissions`);
    // Only the log lines of the reads and of the token requests are new.
    const after = (await tableSnapshot(service)).filter((i) => !before.includes(i));
    expect(after.every((i) => JSON.parse(i).pk.includes('#LOG'))).toBe(true);
  });

  it('refuses bad arguments with the usage, and a wrong upstream secret with a clear message', async () => {
    expect((await run(['--from-export', dir, ...fromUpstream])).code).toBe(2);
    const wrong = await run(['--from-upstream', upstream.url, '--upstream-client-id', reader.client_id, '--upstream-client-secret', 'wrong-secret']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^import-tenant: no Management API token from http:\/\/127\.0\.0\.1:\d+: Unauthorized\n$/);
  });
});

describe('import-tenant from an Auth0 Deploy CLI export', () => {
  it('a directory export: the app logs in with its old client_id and secret; grants name clients', async () => {
    const exportDir = join(dir, 'export');
    for (const sub of ['clients', 'resource-servers', 'grants', 'roles', `database-connections/${UPA}`]) mkdirSync(join(exportDir, sub), { recursive: true });
    const app = { client_id: 'DirExportApp000000000000000001', client_secret: 'dir-export-secret-0123456789abcdefghij' };
    writeFileSync(join(exportDir, 'clients', 'Dir App.json'), JSON.stringify({ name: 'Dir App', app_type: 'regular_web', grant_types: ['password', 'http://auth0.com/oauth/grant-type/password-realm', 'client_credentials'], ...app }));
    writeFileSync(join(exportDir, 'resource-servers', 'Reports.json'), JSON.stringify({ name: 'Reports', identifier: 'https://reports-dir.example/', scopes: [{ value: 'read:reports' }] }));
    writeFileSync(join(exportDir, 'grants', 'Dir App-Reports.json'), JSON.stringify({ client_id: 'Dir App', audience: 'https://reports-dir.example/', scope: ['read:reports'] }));
    writeFileSync(join(exportDir, 'roles', 'Reporter.json'), JSON.stringify({ name: 'reporter-dir', permissions: [{ resource_server_identifier: 'https://reports-dir.example/', permission_name: 'read:reports' }] }));
    writeFileSync(join(exportDir, 'database-connections', UPA, 'database.json'), JSON.stringify({ name: UPA, strategy: 'auth0', enabled_clients: ['Dir App'] }));
    mkdirSync(join(exportDir, 'connections'));
    writeFileSync(join(exportDir, 'connections', 'google-oauth2.json'), JSON.stringify({ name: 'google-oauth2', strategy: 'google-oauth2', enabled_clients: ['Dir App'] }));

    const res = await run(['--from-export', exportDir, '--apply']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.out).toContain('connection "google-oauth2": strategy google-oauth2: only database connections are imported');
    const login = await passwordLogin(app);
    expect(decodeJwt(login.data.access_token).azp).toBe(app.client_id);
    const m2m = await service.postForm('/oauth/token', { grant_type: 'client_credentials', ...app, audience: 'https://reports-dir.example/' });
    expect(m2m.status, JSON.stringify(m2m.body)).toBe(200);
    expect((await run(['--from-export', exportDir])).outcome!.plan.steps).toEqual([]);
  });

  it('a YAML export: the same, and a client without a secret gets a new one printed once', async () => {
    const app = { client_id: 'YamlExportApp00000000000000001', client_secret: 'yaml-export-secret-0123456789abcdefghij' };
    const file = join(dir, 'tenant.yaml');
    writeFileSync(
      file,
      [
        'clients:',
        '  - name: Yaml App',
        `    client_id: ${app.client_id}`,
        `    client_secret: ${app.client_secret}`,
        '    app_type: regular_web',
        '    grant_types: [password, "http://auth0.com/oauth/grant-type/password-realm"]',
        '  - name: Yaml Backend',
        '    client_id: YamlBackend0000000000000000001',
        '    app_type: non_interactive',
        '    grant_types: [client_credentials]',
        'databases:',
        `  - name: ${UPA}`,
        '    strategy: auth0',
        '    enabled_clients: [Yaml App]',
        '    options:',
        '      passwordPolicy: excellent',
        '',
      ].join('\n'),
    );
    const res = await run(['--from-export', file, '--apply']);
    expect(res.code, res.out + res.err).toBe(0);
    expect(res.out).toMatch(/new client_secret for YamlBackend0000000000000000001 \(shown once\): \S{16,}/);
    expect(res.out).toContain('exists here with another password policy (none; source excellent); not changed');
    const login = await passwordLogin(app);
    expect(decodeJwt(login.data.access_token).azp).toBe(app.client_id);
  });
});
