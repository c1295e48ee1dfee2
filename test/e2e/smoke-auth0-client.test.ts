import { AuthenticationClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsToLocalFetch, startTestService, type TestService } from '../support/local-service.js';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.close());

describe('auth0 AuthenticationClient against the local server', () => {
  it('gets tokens with the password grant and a verified id_token', async () => {
    const c = service.credentials;
    const auth = new AuthenticationClient({ domain: service.domain, clientId: c.webClient.client_id, clientSecret: c.webClient.client_secret, fetch: httpsToLocalFetch(service) });
    const res = await auth.oauth.passwordGrant({ username: c.demoUser.email, password: c.demoUser.password, scope: 'openid profile email offline_access' });
    expect(res.data.id_token).toBeTruthy();
    expect(res.data.refresh_token).toMatch(/^r1\./);
  });
});
