import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * A failing post-login extension with the fail-closed policy: the issuance is refused with
 * `access_denied`, the refresh token presented stays usable (a retry is not reuse), the failure
 * is logged, and once the extension answers again the same token works.
 */
let service: TestService;
const state = globalThis as { __postLogin?: string };

beforeAll(async () => {
  service = await startTestService({
    config: { postLogin: { modulePath: new URL('../support/post-login-switchable.mjs', import.meta.url).pathname, timeoutMs: 300, failureMode: 'closed' } },
  });
});
afterAll(() => service?.close());
afterEach(() => {
  delete state.__postLogin;
});

function passwordLogin() {
  const c = service.credentials;
  return service.postForm('/oauth/token', {
    grant_type: 'password', client_id: c.webClient.client_id, client_secret: c.webClient.client_secret,
    username: c.demoUser.email, password: c.demoUser.password, scope: 'openid offline_access',
  });
}

function refresh(token: string) {
  const c = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: token });
}

describe('post-login extension failing closed', () => {
  it.each(['throw', 'hang'])('extension %s: refused, logged, and the refresh token survives for the retry', async (mode) => {
    const login = await passwordLogin();
    expect(login.status).toBe(200);
    expect(decodeJwt(login.body.access_token)['https://myapp.example/checked']).toBe(true);

    state.__postLogin = mode;
    const refused = await refresh(login.body.refresh_token);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'access_denied', error_description: 'The post-login extension failed.' });
    const reason = mode === 'throw' ? 'error' : 'timeout';
    expect(service.logLines.some((l) => l.includes('post_login_failed') && l.includes(`"reason":"${reason}"`))).toBe(true);

    delete state.__postLogin;
    const retried = await refresh(login.body.refresh_token);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(decodeJwt(retried.body.access_token)['https://myapp.example/checked']).toBe(true);
  });
});
