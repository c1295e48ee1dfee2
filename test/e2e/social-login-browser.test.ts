import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/local-service.js';
import { startFakeApple } from '../support/fake-social-providers.js';
import { startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { chromiumInstalled, launchChromium, type BrowserSession } from './browser/chromium.js';
import { configureSpaClient } from './browser/login-http-agent.js';
import { startSpaTestApp, type SpaTestApp } from './browser/spa-test-app.js';
import { managementApi } from './management-helpers.js';

/**
 * A Google sign-in in a real browser: headless Chromium runs the unmodified auth0-spa-js
 * `loginWithRedirect({ authorizationParams: { connection: 'google-oauth2' } })`, the provider
 * (panva's oidc-provider standing in for Google) shows its own login and consent pages, and the
 * app gets the user Auth0 had: `google-oauth2|<provider sub>`. Apple's answer is a cross-origin
 * form_post from the provider's page, which must carry the browser's state cookie.
 */
let service: TestService;
let provider: TestProvider;
let app: SpaTestApp;
let browser: BrowserSession;
let apple: Awaited<ReturnType<typeof startFakeApple>>;

beforeAll(async () => {
  if (!chromiumInstalled()) throw new Error('chromium is missing: apt-get install -y chromium (see .ci/run)');
  service = await startTestService();
  provider = await startTestProvider({ redirectUris: [`${service.url}/login/callback`] });
  apple = await startFakeApple({ redirectUris: [`${service.url}/login/callback`] });
  app = await startSpaTestApp({ domain: service.url, clientId: service.credentials.spaClient.client_id });
  await configureSpaClient(service, { callbacks: [app.callbackUrl], web_origins: [app.origin] });
  const api = managementApi(service);
  const created = await api.call('POST', '/api/v2/connections', {
    token: await api.token(service.credentials.machineClient),
    body: {
      name: 'google-oauth2',
      strategy: 'google-oauth2',
      options: { client_id: provider.clientId, client_secret: provider.clientSecret, discovery_url: provider.discoveryUrl },
      enabled_clients: [service.credentials.spaClient.client_id],
    },
  });
  expect(created.status).toBe(201);
  const appleConnection = await api.call('POST', '/api/v2/connections', {
    token: await api.token(service.credentials.machineClient),
    body: {
      name: 'apple',
      strategy: 'apple',
      options: { client_id: apple.clientId, team_id: apple.teamId, kid: apple.keyId, app_secret: apple.privateKeyPem, provider_base_url: apple.base },
      enabled_clients: [service.credentials.spaClient.client_id],
    },
  });
  expect(appleConnection.status).toBe(201);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await provider?.close();
  await apple?.close();
  await service?.close();
});

describe('social login in headless Chromium with auth0-spa-js', () => {
  it('loginWithRedirect with connection google-oauth2 goes through the provider\'s own pages and back; the app sees google-oauth2|<sub>', async () => {
    provider.accounts.set('108234567', { email: 'browser@gmail.example', email_verified: true, name: 'Browser User' });
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    try {
      await page.goto(`${app.origin}/`);
      await page.evaluate(() => (window as any).ready);
      await Promise.all([
        page.waitForURL(`${provider.issuer}/interaction/**`, { waitUntil: 'commit' }),
        page.evaluate(() => (window as any).app.login('google-oauth2')),
      ]);
      await page.locator('input[name="login"]').fill('108234567');
      await page.locator('input[name="password"]').fill('any');
      await Promise.all([page.waitForURL(`${provider.issuer}/interaction/**`, { waitUntil: 'commit' }), page.locator('button[type="submit"]').click()]);
      await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached' });
      await Promise.all([page.waitForURL(`${app.callbackUrl}?**`), page.locator('button[type="submit"]').click()]);
      await page.evaluate(() => (window as any).ready);
      const result = (await page.evaluate(() => (window as any).app.callback())) as { ok: boolean; error?: string; user?: Record<string, unknown>; accessToken?: string };
      expect(result.error).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(result.user?.sub).toBe('google-oauth2|108234567');
      expect(result.user?.email).toBe('browser@gmail.example');
      expect(decodeJwt(result.accessToken!).sub).toBe('google-oauth2|108234567');
    } finally {
      await page.close();
    }
  });

  it('Apple: the provider\'s form_post reaches /login/callback from the browser with its state cookie; the app sees apple|<sub> and the name Apple sent', async () => {
    apple.accounts.set('000111.browser.2222', { email: 'browser@privaterelay.appleid.com', email_verified: true, firstName: 'Brow', lastName: 'Ser' });
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    try {
      await page.goto(`${app.origin}/`);
      await page.evaluate(() => (window as any).ready);
      await Promise.all([page.waitForURL(`${apple.base}/auth/authorize?**`, { waitUntil: 'commit' }), page.evaluate(() => (window as any).app.login('apple'))]);
      await page.locator('input[name="account"]').fill('000111.browser.2222');
      await Promise.all([page.waitForURL(`${app.callbackUrl}?**`), page.locator('button[value="allow"]').click()]);
      await page.evaluate(() => (window as any).ready);
      const result = (await page.evaluate(() => (window as any).app.callback())) as { ok: boolean; error?: string; user?: Record<string, unknown> };
      expect(result.error).toBeUndefined();
      expect(result.user?.sub).toBe('apple|000111.browser.2222');
      expect(result.user?.name).toBe('Brow Ser');
    } finally {
      await page.close();
    }
  });
});
