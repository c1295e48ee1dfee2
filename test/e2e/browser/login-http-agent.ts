/**
 * A minimal browser stand-in for the hosted-login tests that do not need a real browser: a
 * cookie jar, manual redirects, the login form read from the page, and PKCE pairs.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TestService } from '../../support/local-service.js';

export interface AgentResponse {
  status: number;
  headers: Headers;
  body: string;
  /** The Set-Cookie lines of this response, raw. */
  setCookies: string[];
}

export function createLoginAgent(baseUrl: string, extraHeaders: Record<string, string> = {}) {
  const jar = new Map<string, string>();
  async function request(pathOrUrl: string, init: { method?: string; form?: Record<string, string>; withCookies?: boolean } = {}) {
    const headers: Record<string, string> = { ...extraHeaders };
    if (init.withCookies !== false && jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${baseUrl}${pathOrUrl}`;
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body: init.form ? new URLSearchParams(init.form) : undefined,
      redirect: 'manual',
    });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1));
    }
    return { status: res.status, headers: res.headers, body: await res.text(), setCookies } satisfies AgentResponse;
  }
  return { request, jar };
}

export type LoginAgent = ReturnType<typeof createLoginAgent>;

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Hidden inputs of the login form on a page. */
export function hiddenFields(page: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]] = m[2];
  return out;
}

/** Gives the seeded SPA client the URLs a test needs (as the Management API would) and drops the cached config. */
export async function configureSpaClient(
  service: TestService,
  urls: { callbacks?: string[]; allowed_logout_urls?: string[]; web_origins?: string[] },
): Promise<void> {
  const { tenant, spaClient } = service.credentials;
  const config = await service.deps.tenantConfigs.load(tenant);
  const client = config!.clients.get(spaClient.client_id)!;
  await service.deps.tenantConfigs.putClient(tenant, { ...client, ...urls });
  service.deps.tenantConfigCache.invalidate(tenant);
}

export function authorizeQuery(p: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined) q.set(k, v);
  return `/authorize?${q}`;
}

/** GET /authorize, follow to the login page, submit it; returns the final response and the page. */
export async function loginThroughPage(
  agent: LoginAgent,
  authorizeParams: Record<string, string | undefined>,
  email: string,
  password: string,
): Promise<{ page: AgentResponse; result: AgentResponse }> {
  const start = await agent.request(authorizeQuery(authorizeParams));
  if (start.status !== 302) throw new Error(`authorize answered ${start.status}: ${start.body.slice(0, 200)}`);
  const page = await agent.request(start.headers.get('location')!);
  const fields = hiddenFields(page.body);
  const result = await agent.request('/u/login', { form: { ...fields, username: email, password } });
  return { page, result };
}
