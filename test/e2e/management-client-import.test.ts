import { AuthenticationClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * Apps keep their Auth0 client ids: an operator imports each application with its upstream
 * client_id (and secret), and the app's unchanged SDK configuration works against this service.
 */
let service: TestService;
let api: ReturnType<typeof managementApi>;
let token: string;

const upstreamClientId = 'AbCdEf0123456789AbCdEf0123456789';
const upstreamSecret = 'upstream-secret-of-the-web-app-0123456789';

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
});
afterAll(() => service?.close());

describe('POST /api/v2/clients with an Auth0 client_id', () => {
  it('keeps the client_id and secret, does not echo the secret, and the app signs users in unchanged', async () => {
    const res = await api.call('POST', '/api/v2/clients', {
      token,
      body: {
        name: 'Imported web app',
        app_type: 'regular_web',
        client_id: upstreamClientId,
        client_secret: upstreamSecret,
        grant_types: ['password', 'http://auth0.com/oauth/grant-type/password-realm', 'refresh_token'],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.client_id).toBe(upstreamClientId);
    expect(res.text).not.toContain(upstreamSecret);

    const connection = service.credentials.connection;
    const conn = await api.call('GET', `/api/v2/connections/${connection.id}`, { token });
    const enabled = await api.call('PATCH', `/api/v2/connections/${connection.id}`, {
      token,
      body: { enabled_clients: [...conn.body.enabled_clients, upstreamClientId] },
    });
    expect(enabled.status).toBe(200);

    const auth = new AuthenticationClient({
      domain: service.domain,
      clientId: upstreamClientId,
      clientSecret: upstreamSecret,
      fetch: httpsToLocalFetch(service),
    });
    const login = await auth.oauth.passwordGrant({
      username: service.credentials.demoUser.email,
      password: service.credentials.demoUser.password,
      scope: 'openid profile email',
    });
    expect(login.data.id_token).toBeTruthy();
  });

  it('answers 409 for a client_id that exists, leaving the existing client as it was', async () => {
    const again = await api.call('POST', '/api/v2/clients', {
      token,
      body: { name: 'Imposter', client_id: upstreamClientId, client_secret: 'another-secret-0123456789' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ statusCode: 409, errorCode: 'client_exists' });
    const kept = await api.call('GET', `/api/v2/clients/${upstreamClientId}`, { token });
    expect(kept.body.name).toBe('Imported web app');
  });

  it('refuses a secret for a public client', async () => {
    const res = await api.call('POST', '/api/v2/clients', {
      token,
      body: { name: 'SPA', app_type: 'spa', client_id: 'spa-imported-id', client_secret: 'a-secret-for-a-spa-0123' },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('client_secret');
  });
});
