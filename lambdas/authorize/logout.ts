import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import type { ClientRecord } from '../store/records.js';
import { isSecureIssuer } from './cookies.js';
import { cspNonce, errorPage, html, page, redirect } from './html.js';
import { htmlEndpoint, queryOf } from './html-endpoint.js';
import { endLoginSession, type LoginSessionDeps } from './session.js';

/**
 * `GET /v2/logout?client_id=&returnTo=`: ends the login session (always), then redirects to
 * `returnTo` only when it is one of the allowed logout URLs of the client (of any client of the
 * tenant when no client_id is given); otherwise shows a page.
 */
export const logoutEndpoint = htmlEndpoint(async (deps: TenantContextDeps & LoginSessionDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const query = queryOf(event);
  const client = query.client_id ? ctx.config.clients.get(query.client_id) : undefined;
  const { cookie, ended } = await endLoginSession(deps, ctx.tenant, event, isSecureIssuer(ctx.issuer));
  if (ended) {
    ctx.log.add({ type: 'slo', user_id: ended.user_id, client_id: client?.client_id, client_name: client?.name });
    await ctx.log.flush();
  }
  const returnTo = query.returnTo;
  if (returnTo) {
    if (query.client_id && !client) return errorPage(400, 'invalid_request', 'Unknown client.', [cookie]);
    const candidates: ClientRecord[] = client ? [client] : [...ctx.config.clients.values()];
    if (!candidates.some((c) => c.allowed_logout_urls.includes(returnTo))) {
      return errorPage(400, 'invalid_request', 'The returnTo URL is not in the list of allowed logout URLs.', [cookie]);
    }
    return redirect(returnTo, [cookie]);
  }
  const nonce = cspNonce();
  return html(200, page('Logged out', nonce, '<h1>You are logged out</h1><p class="lead">You can close this window.</p>'), nonce, {
    cookies: [cookie],
  });
});
