import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { linkUpstream, updateConnectionOptions } from '../support/import-mode.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { lastMailTo } from '../support/password-reset.js';
import { chromiumInstalled, launchChromium, type BrowserSession } from './browser/chromium.js';
import { configureSpaClient } from './browser/login-http-agent.js';
import { startSpaTestApp, type SpaTestApp } from './browser/spa-test-app.js';

/**
 * "Forgot password?" in headless Chromium: the login page's link, the request page, the mail in
 * the outbox, the reset page, then a login with auth0-spa-js and the new password; once for a
 * local user and once for an MFA user who exists only upstream (migrated by the reset, same sub).
 * `UPDATE_RESET_SCREENSHOTS=1` rewrites the pages' screenshots in docs/.
 */
let service: TestService;
let upstream: FakeUpstream;
let app: SpaTestApp;
let browser: BrowserSession;
const MGMT = { client_id: 'browser-lookup', client_secret: randomBytes(24).toString('base64url') };

beforeAll(async () => {
  if (!chromiumInstalled()) throw new Error('chromium is missing: apt-get install -y chromium (see .ci/run)');
  upstream = await startFakeUpstream();
  service = await startTestService();
  app = await startSpaTestApp({ domain: service.url, clientId: service.credentials.spaClient.client_id });
  await configureSpaClient(service, { callbacks: [app.callbackUrl], web_origins: [app.origin], allowed_logout_urls: [`${app.origin}/`] });
  await linkUpstream(service, upstream);
  upstream.management.addClient({ ...MGMT, scopes: ['read:users', 'read:roles'] });
  await service.deps.secrets.put('test/browser-lookup', MGMT.client_secret);
  await updateConnectionOptions(service, (o) => ({
    ...o,
    passwordPolicy: 'fair',
    configuration: { ...o.configuration!, management_api: { domain: upstream.domain, client_id: MGMT.client_id, client_secret_ref: 'test/browser-lookup' } },
  }));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await service?.close();
  await upstream?.close();
});

async function shot(page: Page, name: string) {
  const png = await page.screenshot({ fullPage: true });
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  if (process.env.UPDATE_RESET_SCREENSHOTS === '1') writeFileSync(new URL(`../../docs/${name}.png`, import.meta.url), png);
}

/** From the SPA's login to the reset page's "Password changed". */
async function forgotPassword(email: string, newPassword: string, screenshots = false) {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  try {
    await page.goto(`${app.origin}/`);
    await page.evaluate(() => (window as any).ready);
    await Promise.all([page.waitForURL(/\/u\/login\?state=/), page.evaluate(() => (window as any).app.login())]);
    await Promise.all([page.waitForURL(/\/u\/login\/reset-request\?state=/), page.getByRole('link', { name: 'Forgot password?' }).click()]);
    await page.getByLabel('Email address').fill(email);
    if (screenshots) await shot(page, 'reset-request-page');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect(page.getByRole('heading', { name: 'Check your e-mail' }).textContent()).resolves.toBe('Check your e-mail');

    const link = lastMailTo(service, email)?.path;
    expect(link).toBeDefined();
    await page.goto(`${service.url}${link}`);
    await expect(page.getByText('Lower case letters (a-z), upper case letters (A-Z) and numbers (0-9)').count()).resolves.toBe(1);
    await page.getByLabel('New password', { exact: true }).fill('weakpass');
    await page.getByLabel('Confirm new password').fill('weakpass');
    await page.getByRole('button', { name: 'Reset password' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('too weak');
    if (screenshots) await shot(page, 'reset-password-page');
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password').fill(newPassword);
    await page.getByRole('button', { name: 'Reset password' }).click();
    await expect(page.getByRole('heading', { name: 'Password changed' }).textContent()).resolves.toBe('Password changed');
    if (screenshots) await shot(page, 'reset-done-page');
    // The link is used up.
    const again = await page.goto(`${service.url}${link}`);
    expect(again?.status()).toBe(400);
  } finally {
    await page.close();
  }
}

async function signInWithSpa(email: string, password: string) {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  try {
    await page.goto(`${app.origin}/`);
    await page.evaluate(() => (window as any).ready);
    await Promise.all([page.waitForURL(/\/u\/login\?state=/), page.evaluate(() => (window as any).app.login())]);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password').fill(password);
    await Promise.all([page.waitForURL(`${app.callbackUrl}?**`), page.getByRole('button', { name: 'Continue' }).click()]);
    await page.evaluate(() => (window as any).ready);
    return (await page.evaluate(() => (window as any).app.callback())) as { ok: boolean; error?: string; accessToken?: string };
  } finally {
    await page.close();
  }
}

describe('forgot password in headless Chromium', () => {
  it('a local user resets through the hosted pages and logs in with the new password', async () => {
    const email = `browser-${randomBytes(4).toString('hex')}@example.com`;
    const { tenant, connection } = service.credentials;
    const config = await service.deps.tenantConfigs.load(tenant);
    const created = await createUser(service.deps, { tenant, connection: config!.connections.get(connection.id)!, profile: { email }, password: 'Old-pass-123' });
    await forgotPassword(email, 'New-pass-456', true);
    const result = await signInWithSpa(email, 'New-pass-456');
    expect(result.error).toBeUndefined();
    expect(decodeJwt(result.accessToken!).sub).toBe(created.outcome === 'created' ? created.user.user_id : undefined);
  });

  it('an MFA user who exists only upstream is migrated by the reset and logs in locally with the same sub', async () => {
    const email = `browser-up-${randomBytes(4).toString('hex')}@example.com`;
    const up = upstream.addUser({ email, password: 'Upstream-pass-1', mfa: true });
    await forgotPassword(email, 'Migrated-pass-789');
    const result = await signInWithSpa(email, 'Migrated-pass-789');
    expect(result.error).toBeUndefined();
    expect(decodeJwt(result.accessToken!).sub).toBe(up.sub);
  });
});
