import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * Turning the password fallback off and on again is a toggle, as in Auth0: `import_mode: false`
 * keeps the upstream configuration and its secret, so switching back needs no secret; only
 * `configuration: null` removes them. Short secrets get a (shorter) hint too.
 */
const SHORT_SECRET = 'Sh0rt-s3';
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;
let id: string;

const configuration = {
  token_endpoint: 'https://old-tenant.example.com/oauth/token',
  userinfo_endpoint: 'https://old-tenant.example.com/userinfo',
  client_id: 'upstream-client-toggle',
};
const patch = (options: unknown) => api.call('PATCH', `/api/v2/connections/${id}`, { token, body: { options } });
const storedRef = async () =>
  (await service.deps.tenantConfigs.load(service.credentials.tenant))!.connections.get(id)!.options.configuration?.client_secret_ref;

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
  const res = await api.call('POST', '/api/v2/connections', {
    token,
    body: {
      name: 'Toggle-Users',
      strategy: 'auth0',
      options: {
        import_mode: true,
        configuration: {
          ...configuration,
          client_secret: SHORT_SECRET,
          management_api: { domain: 'old-tenant.eu.auth0.com', client_id: 'upstream-mgmt-toggle', client_secret: 'Mgmt-secret-0123456789' },
        },
      },
    },
  });
  expect(res.status).toBe(201);
  id = res.body.id;
});
afterAll(() => service?.close());

describe('connection import mode toggle', () => {
  it('gives a short secret a two-character hint, never the secret', async () => {
    const read = await api.call('GET', `/api/v2/connections/${id}`, { token });
    expect(read.body.options.configuration).toMatchObject({ ...configuration, client_secret_hint: 's3' });
    expect(read.text).not.toContain(SHORT_SECRET);
  });

  it('import_mode false keeps the configuration and its secret; true again needs no secret', async () => {
    const ref = await storedRef();
    expect(ref).toBeTruthy();

    const off = await patch({ import_mode: false });
    expect(off.status).toBe(200);
    expect(off.body.options).toMatchObject({ import_mode: false, configuration: { ...configuration, client_secret_hint: 's3' } });
    expect(await storedRef()).toBe(ref);
    expect(await service.deps.secrets.get(ref!)).toBe(SHORT_SECRET);

    const on = await patch({ import_mode: true });
    expect(on.status).toBe(200);
    expect(on.body.options).toMatchObject({ import_mode: true, configuration });
    expect(await service.deps.secrets.get(ref!)).toBe(SHORT_SECRET);
  });

  it('configuration null removes the configuration and deletes its secrets', async () => {
    const ref = await storedRef();
    const managementRef = (await service.deps.tenantConfigs.load(service.credentials.tenant))!.connections.get(id)!.options.configuration
      ?.management_api?.client_secret_ref;
    expect(await service.deps.secrets.get(managementRef!)).toBe('Mgmt-secret-0123456789');
    const removed = await patch({ import_mode: false, configuration: null });
    expect(removed.status).toBe(200);
    expect(removed.body.options.configuration).toBeUndefined();
    expect(await storedRef()).toBeUndefined();
    expect(await service.deps.secrets.get(ref!)).toBeUndefined();
    expect(await service.deps.secrets.get(managementRef!)).toBeUndefined();
  });
});
