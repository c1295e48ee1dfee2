import { writeFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { authEvents, linkUpstream } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { chromiumInstalled, launchChromium, type BrowserSession } from './browser/chromium.js';
import { configureSpaClient } from './browser/login-http-agent.js';
import { startSpaTestApp, type SpaTestApp } from './browser/spa-test-app.js';

/**
 * The hosted login in a real browser: headless Chromium loads a page that uses the unmodified
 * auth0-spa-js with this service's local origin as its domain, signs in on the hosted page
 * (loginWithRedirect), lands back (handleRedirectCallback), reads the user and refreshes the
 * access token with a refresh token (getTokenSilently, useRefreshTokens).
 */
let service: TestService;
let upstream: FakeUpstream;
let app: SpaTestApp;
let browser: BrowserSession;

beforeAll(async () => {
  if (!chromiumInstalled()) throw new Error('chromium is missing: apt-get install -y chromium (see .ci/run)');
  upstream = await startFakeUpstream();
  service = await startTestService();
  app = await startSpaTestApp({ domain: service.url, clientId: service.credentials.spaClient.client_id });
  await configureSpaClient(service, {
    callbacks: [app.callbackUrl],
    web_origins: [app.origin],
    allowed_logout_urls: [`${app.origin}/`],
  });
  await linkUpstream(service, upstream);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await service?.close();
  await upstream?.close();
});

interface CallbackResult {
  ok: boolean;
  error?: string;
  user?: Record<string, unknown>;
  nonce?: string;
  accessToken?: string;
  authenticated?: boolean;
}

/** Drives the whole flow in a new page without cookies (no login session); returns what the SPA saw. */
async function signInWithSpa(email: string, password: string, onLoginPage?: (page: Page) => Promise<void>): Promise<CallbackResult> {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  try {
    await page.goto(`${app.origin}/`);
    await page.evaluate(() => (window as any).ready);
    await Promise.all([page.waitForURL(/\/u\/login\?state=/), page.evaluate(() => (window as any).app.login())]);
    await expect(page.getByRole('heading', { name: 'Welcome' }).textContent()).resolves.toBe('Welcome');
    await onLoginPage?.(page);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(password);
    await Promise.all([page.waitForURL(`${app.callbackUrl}?**`), page.getByRole('button', { name: 'Continue' }).click()]);
    await page.evaluate(() => (window as any).ready);
    return (await page.evaluate(() => (window as any).app.callback())) as CallbackResult;
  } finally {
    await page.close();
  }
}

describe('hosted login in headless Chromium with auth0-spa-js', () => {
  it('signs in a local user: redirect, hosted page, callback, getUser, refresh-token getTokenSilently', async () => {
    const { demoUser } = service.credentials;
    const result = await signInWithSpa(demoUser.email, demoUser.password, async (page) => {
      const png = await page.screenshot({ fullPage: true });
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      if (process.env.UPDATE_LOGIN_SCREENSHOT === '1') writeFileSync(new URL('../../docs/login-page.png', import.meta.url), png);
    });
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.authenticated).toBe(true);
    expect(result.user?.sub).toBe(demoUser.user_id);
    expect(result.user?.email).toBe(demoUser.email);
    expect(result.nonce).toBeTruthy();
    const access = decodeJwt(result.accessToken!);
    expect(access.sub).toBe(demoUser.user_id);
    // The token getTokenSilently returned came from the refresh grant, not the cache.
    expect(access.gty).toBe('refresh_token');
    const types = authEvents(service, demoUser.email).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['s', 'seacft', 'sertft']));
  });

  it('signs in a user who exists only upstream, migrating them on that login', async () => {
    const upstreamUser = upstream.addUser({ email: 'only-upstream@example.com', password: 'Upstream-Pass-1', name: 'Only Upstream' });
    const before = upstream.requestsTo('token').length;
    const result = await signInWithSpa(upstreamUser.email, 'Upstream-Pass-1');
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    // The local user keeps the upstream sub, so the app's data stays keyed the same.
    expect(result.user?.sub).toBe(upstreamUser.sub);
    expect(result.user?.name).toBe('Only Upstream');
    expect(decodeJwt(result.accessToken!).gty).toBe('refresh_token');
    expect(upstream.requestsTo('token').length).toBe(before + 1);
    const login = authEvents(service, upstreamUser.email).find((e) => e.type === 's');
    expect(login?.migration).toBe('password_fallback');
    const local = await service.deps.users.getUserWithPassword(service.credentials.tenant, upstreamUser.sub);
    expect(local.password?.hash).toMatch(/^\$2[ab]\$/);
  });
});
