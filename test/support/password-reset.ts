import { request } from 'node:http';
import { readEmlText } from '../../lambdas/mail/outbox-mailer.js';
import type { TestService } from './local-service.js';

/** The newest mail in the service's outbox for this address, if any, with its link (path and query only). */
export function lastMailTo(service: TestService, email: string): { subject: string; text: string; html: string; path?: string } | undefined {
  const mails = service.outbox.files().map(readEmlText).filter((m) => m.to === email);
  const mail = mails.at(-1);
  if (!mail) return undefined;
  const url = /https?:\/\/\S+\?ticket=[\w%-]+/.exec(mail.text)?.[0];
  return { ...mail, path: url ? new URL(url).pathname + new URL(url).search : undefined };
}

export function mailCount(service: TestService): number {
  return service.outbox.files().length;
}

/** A JSON POST from a given loopback address (the client IP the service sees). */
export function postJsonFrom(service: TestService, localAddress: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const url = new URL(path, service.url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a reset link and submits a new password, as a browser without scripts would (cookie included). */
export async function resetThroughPage(service: TestService, linkPath: string, password: string, confirm = password) {
  const page = await fetch(`${service.url}${linkPath}`);
  const html = await page.text();
  if (page.status !== 200) return { page: { status: page.status, html }, result: undefined };
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  const result = await fetch(`${service.url}/u/reset-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ ticket: field('ticket'), csrf: field('csrf'), password, password_confirm: confirm }),
  });
  return { page: { status: page.status, html }, result: { status: result.status, html: await result.text() }, cookie, ticket: field('ticket'), csrf: field('csrf') };
}
