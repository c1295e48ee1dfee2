import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { verifyEmail } from '../dbconnections/email-verification.js';
import { cspNonce, errorPage, escapeHtml, html, page, redirect } from './html.js';
import { htmlEndpoint, queryOf } from './html-endpoint.js';
import type { TicketDeps } from '../dbconnections/password-reset.js';

export const INVALID_VERIFICATION_LINK = 'This verification link has expired or was already used.';

/** `GET /u/email-verification?ticket=…`: the link of a verification e-mail; sets `email_verified`. */
export const emailVerificationEndpoint = htmlEndpoint(async (deps: TenantContextDeps & TicketDeps & Pick<Deps, 'users'>, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const ticket = queryOf(event).ticket;
  const outcome = ticket ? await verifyEmail(deps, ctx, ticket) : { kind: 'invalid_link' as const };
  if (outcome.kind === 'invalid_link') return errorPage(400, 'invalid_request', INVALID_VERIFICATION_LINK);
  if (outcome.result_url) return redirect(outcome.result_url);
  const nonce = cspNonce();
  const tenantName = ctx.config.settings.friendly_name;
  const content = `<p class="tenant">${escapeHtml(tenantName)}</p>
<h1>E-mail verified</h1>
<p class="lead" role="status">Your e-mail address was verified. You can return to the application.</p>`;
  return html(200, page(`E-mail verified | ${tenantName}`, nonce, content), nonce);
});
