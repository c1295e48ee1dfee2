import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';
import { chromiumInstalled, launchChromium, type BrowserSession } from './browser/chromium.js';
import { configureSpaClient } from './browser/login-http-agent.js';
import { startSpaTestApp, type SpaTestApp } from './browser/spa-test-app.js';
import { managementApi } from './management-helpers.js';

/**
 * An unmodified auth0-spa-js in headless Chromium asks for an API (`audience`) and gets an
 * access token with that audience, the user's RBAC `permissions` and a custom claim set by the
 * post-login extension, both from the code exchange and from getTokenSilently's refresh.
 */
let service: TestService;
let app: SpaTestApp;
let browser: BrowserSession;
const API = 'https://spa-api.example/';
const NS = 'https://myapp.example/';

beforeAll(async () => {
  if (!chromiumInstalled()) throw new Error('chromium is missing: apt-get install -y chromium (see .ci/run)');
  service = await startTestService({
    config: { postLogin: { modulePath: new URL('../support/post-login-action.mjs', import.meta.url).pathname, timeoutMs: 5000, failureMode: 'closed' } },
  });
  const api = managementApi(service);
  const token = await api.token(service.credentials.machineClient);
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await api.call(method, path, { token, body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  await ok('POST', '/api/v2/resource-servers', {
    identifier: API, name: 'SPA API', scopes: [{ value: 'read:notes' }, { value: 'write:notes' }],
    allow_offline_access: true, enforce_policies: true, token_dialect: 'access_token_authz',
  });
  const role = await ok('POST', '/api/v2/roles', { name: 'note-reader' });
  await ok('POST', `/api/v2/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: API, permission_name: 'read:notes' }] });
  await ok('POST', `/api/v2/users/${encodeURIComponent(service.credentials.demoUser.user_id)}/roles`, { roles: [role.id] });
  app = await startSpaTestApp({ domain: service.url, clientId: service.credentials.spaClient.client_id, audience: API, scope: 'openid profile email offline_access read:notes write:notes' });
  await configureSpaClient(service, { callbacks: [app.callbackUrl], web_origins: [app.origin], allowed_logout_urls: [`${app.origin}/`] });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await service?.close();
});

describe('auth0-spa-js getTokenSilently({ audience })', () => {
  it('gets an access token for the API with the user\'s permissions and the extension\'s custom claim', async () => {
    const { demoUser } = service.credentials;
    const page = await browser.context.newPage();
    try {
      await page.goto(`${app.origin}/`);
      await page.evaluate(() => (window as any).ready);
      await Promise.all([page.waitForURL(/\/u\/login\?state=/), page.evaluate(() => (window as any).app.login())]);
      await page.getByLabel('Email address').fill(demoUser.email);
      await page.getByLabel('Password').fill(demoUser.password);
      await Promise.all([page.waitForURL(`${app.callbackUrl}?**`), page.getByRole('button', { name: 'Continue' }).click()]);
      await page.evaluate(() => (window as any).ready);
      const result = (await page.evaluate(() => (window as any).app.callback())) as { ok: boolean; error?: string; accessToken?: string };
      expect(result.error).toBeUndefined();
      const access = decodeJwt(result.accessToken!);
      // From the refresh grant (cacheMode off), so a refresh carries them as well as the code exchange.
      expect(access.gty).toBe('refresh_token');
      expect(access.aud).toContain(API);
      expect(access.permissions).toEqual(['read:notes']);
      expect(access.scope).toBe('openid profile email offline_access read:notes');
      expect(access[`${NS}roles`]).toEqual(['note-reader']);
    } finally {
      await page.close();
    }
  });
});
