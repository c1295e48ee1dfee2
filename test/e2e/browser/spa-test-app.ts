/**
 * The small test page of the browser test: an SPA served on 127.0.0.1 that uses the unmodified
 * `@auth0/auth0-spa-js` bundle from node_modules, configured with the service's local origin as
 * its domain. `/` and `/callback` serve the same page.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export interface SpaTestApp {
  origin: string;
  callbackUrl: string;
  close(): Promise<void>;
}

export async function startSpaTestApp(p: { domain: string; clientId: string; audience?: string; scope?: string }): Promise<SpaTestApp> {
  const bundle = readFileSync(join(dirname(require.resolve('@auth0/auth0-spa-js/package.json')), 'dist/auth0-spa-js.production.js'));
  const template = readFileSync(join(here, 'spa-page.html'), 'utf8');
  let callbackUrl = '';
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path === '/auth0-spa-js.production.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(bundle);
      return;
    }
    if (path === '/' || path === '/callback') {
      const config = JSON.stringify({ domain: p.domain, clientId: p.clientId, redirectUri: callbackUrl, audience: p.audience, scope: p.scope });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(template.replace('<script src=', `<script>window.__CONFIG__ = ${config};</script>\n<script src=`));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  callbackUrl = `${origin}/callback`;
  return {
    origin,
    callbackUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
