import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { completePasswordReset, openResetTicket, RESET_PAGE_PATH, type CompleteResetDeps, type TicketDeps } from '../dbconnections/password-reset.js';
import { describePolicy, passwordPolicyOf } from '../identity/password-policy.js';
import { isSecureIssuer, readCookie, serializeCookie } from './cookies.js';
import { cspNonce, errorPage, escapeHtml, html, page } from './html.js';
import { formFieldsOf, htmlEndpoint, queryOf } from './html-endpoint.js';

export const INVALID_RESET_LINK = 'This link has expired or was already used. Ask for a new password reset e-mail.';
const CSRF_COOKIE = '_csrf_reset';

/**
 * The reset page CSRF check: a random token in an HttpOnly SameSite cookie scoped to this page
 * and in the form; another site can neither read the cookie nor send it with a forged POST.
 */
function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function renderResetPage(
  statusCode: number,
  m: { tenantName: string; ticket: string; csrf: string; email: string; rules: string[]; error?: string; cookies?: string[] },
): HttpResponse {
  const nonce = cspNonce();
  const described = m.error ? ' aria-describedby="reset-error policy" aria-invalid="true"' : ' aria-describedby="policy"';
  const content = `<p class="tenant">${escapeHtml(m.tenantName)}</p>
<h1>Change your password</h1>
<p class="lead">Enter a new password for ${escapeHtml(m.email)}.</p>
<form method="post" action="${RESET_PAGE_PATH}" novalidate>
${m.error ? `<p class="error" id="reset-error" role="alert">${escapeHtml(m.error)}</p>` : ''}
<input type="hidden" name="ticket" value="${escapeHtml(m.ticket)}">
<input type="hidden" name="csrf" value="${escapeHtml(m.csrf)}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required autofocus${described}>
<label for="password_confirm">Confirm new password</label>
<input id="password_confirm" name="password_confirm" type="password" autocomplete="new-password" required>
<div id="policy" class="note"><p>Your password must contain:</p><ul>${m.rules.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul></div>
<button type="submit">Reset password</button>
</form>`;
  return html(statusCode, page(`Change your password | ${m.tenantName}`, nonce, content), nonce, { cookies: m.cookies });
}

/** `GET /u/reset-password?ticket=…`: the reset form of a valid link, with the connection's policy. */
export const resetPasswordPageEndpoint = htmlEndpoint(async (deps: TenantContextDeps & TicketDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const ticket = queryOf(event).ticket ?? '';
  const opened = ticket ? await openResetTicket(deps, ctx, ticket) : undefined;
  if (!opened?.ok) return errorPage(400, 'invalid_request', INVALID_RESET_LINK);
  const csrf = randomBytes(32).toString('base64url');
  const cookie = serializeCookie(CSRF_COOKIE, csrf, { path: RESET_PAGE_PATH, maxAge: 3600, secure: isSecureIssuer(ctx.issuer) });
  return renderResetPage(200, {
    tenantName: ctx.config.settings.friendly_name,
    ticket,
    csrf,
    email: opened.ticket.email,
    rules: describePolicy(passwordPolicyOf(opened.connection)),
    cookies: [cookie],
  });
});

/** `POST /u/reset-password`: CSRF-checked; sets the password and uses the link up. */
export const resetPasswordPostEndpoint = htmlEndpoint(async (deps: TenantContextDeps & CompleteResetDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const form = formFieldsOf(event);
  if (!sameToken(form.csrf, readCookie(event, CSRF_COOKIE))) return errorPage(403, 'access_denied', 'The form could not be verified. Open the link from the e-mail again.');
  const ticket = form.ticket ?? '';
  const opened = ticket ? await openResetTicket(deps, ctx, ticket) : undefined;
  if (!opened?.ok) {
    ctx.log.add({ type: 'fcp', reason: `link_${opened?.reason ?? 'missing'}` });
    await ctx.log.flush();
    return errorPage(400, 'invalid_request', INVALID_RESET_LINK);
  }
  const password = (form.password ?? '').slice(0, 1024);
  const again = (error: string) =>
    renderResetPage(400, {
      tenantName: ctx.config.settings.friendly_name,
      ticket,
      csrf: form.csrf!,
      email: opened.ticket.email,
      rules: describePolicy(passwordPolicyOf(opened.connection)),
      error,
    });
  if (!password) return again('Enter a new password.');
  if (password !== form.password_confirm) return again('The passwords do not match.');
  const outcome = await completePasswordReset(deps, ctx, ticket, password);
  await ctx.log.flush();
  if (outcome.kind === 'weak_password') return again(`The password is too weak. It must have: ${outcome.rules.join('; ')}.`);
  if (outcome.kind === 'invalid_link') return errorPage(400, 'invalid_request', INVALID_RESET_LINK);
  if (outcome.kind === 'failed') return errorPage(503, 'temporarily_unavailable', 'Your password could not be changed right now. Ask for a new reset e-mail later.');
  const nonce = cspNonce();
  const tenantName = ctx.config.settings.friendly_name;
  const back = outcome.result_url ? `<p class="note"><a href="${escapeHtml(outcome.result_url)}">Continue</a></p>` : '<p class="note">Return to the application and log in with your new password.</p>';
  const content = `<p class="tenant">${escapeHtml(tenantName)}</p>
<h1>Password changed</h1>
<p class="lead" role="status">Your password has been changed.</p>
${back}`;
  return html(200, page(`Password changed | ${tenantName}`, nonce, content), nonce, {
    cookies: [serializeCookie(CSRF_COOKIE, '', { path: RESET_PAGE_PATH, maxAge: 0, secure: isSecureIssuer(ctx.issuer) })],
  });
});
