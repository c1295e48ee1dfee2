import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import type { Deps } from '../deps.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { takeChangePasswordToken } from '../dbconnections/change-password-endpoint.js';
import { isEmail } from '../dbconnections/db-errors.js';
import { requestPasswordReset, type ResetRequestDeps } from '../dbconnections/password-reset.js';
import { checkCsrf, csrfTokenFromCookie, LOGIN_PATH } from './csrf.js';
import { cspNonce, errorPage, escapeHtml, html, page } from './html.js';
import { formFieldsOf, htmlEndpoint, queryOf } from './html-endpoint.js';
import { CSRF_FAILURE } from './login-post.js';
import { EXPIRED_TRANSACTION, FOREIGN_TRANSACTION } from './login-get.js';
import { findLoginTransaction, type LoginTransactionDeps } from './login-transaction.js';

/** Under the login page's path, so the login transaction's CSRF cookie comes along. */
export const RESET_REQUEST_PATH = `${LOGIN_PATH}/reset-request`;

/** Shown after every request, whether or not the address belongs to someone. */
export const RESET_REQUESTED_MESSAGE =
  'If an account exists for this e-mail address, we have sent it a link to reset the password. Check your inbox.';

function renderRequestPage(statusCode: number, m: { tenantName: string; transactionId: string; csrfToken: string; email?: string; error?: string }): HttpResponse {
  const nonce = cspNonce();
  const described = m.error ? ' aria-describedby="reset-error" aria-invalid="true"' : '';
  const content = `<p class="tenant">${escapeHtml(m.tenantName)}</p>
<h1>Forgot your password?</h1>
<p class="lead">Enter your e-mail address and we will send you a link to reset your password.</p>
<form method="post" action="${RESET_REQUEST_PATH}" novalidate>
${m.error ? `<p class="error" id="reset-error" role="alert">${escapeHtml(m.error)}</p>` : ''}
<input type="hidden" name="state" value="${escapeHtml(m.transactionId)}">
<input type="hidden" name="csrf" value="${escapeHtml(m.csrfToken)}">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" inputmode="email" required autofocus value="${escapeHtml(m.email ?? '')}"${described}>
<button type="submit">Send reset link</button>
</form>
<p class="note"><a href="${LOGIN_PATH}?state=${encodeURIComponent(m.transactionId)}">Back to log in</a></p>`;
  return html(statusCode, page(`Reset your password | ${m.tenantName}`, nonce, content), nonce);
}

/** `GET /u/login/reset-request?state=…`: the "Forgot password?" page of a pending login. */
export const resetRequestPageEndpoint = htmlEndpoint(async (deps: TenantContextDeps & LoginTransactionDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const tx = await findLoginTransaction(deps, ctx.tenant, queryOf(event).state);
  if (!tx) return errorPage(400, 'invalid_request', EXPIRED_TRANSACTION);
  const csrfToken = csrfTokenFromCookie(event, tx.id, tx.csrf_hash);
  if (!csrfToken) return errorPage(403, 'access_denied', FOREIGN_TRANSACTION);
  return renderRequestPage(200, { tenantName: ctx.config.settings.friendly_name, transactionId: tx.id, csrfToken, email: tx.request.login_hint });
});

/** `POST /u/login/reset-request`: CSRF-checked; sends the link as change_password does, same answer for every address. */
export const resetRequestPostEndpoint = htmlEndpoint(async (deps: TenantContextDeps & LoginTransactionDeps & ResetRequestDeps & Pick<Deps, 'rateLimits'>, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const form = formFieldsOf(event);
  const tx = await findLoginTransaction(deps, ctx.tenant, form.state);
  if (!tx) return errorPage(400, 'invalid_request', EXPIRED_TRANSACTION);
  if (checkCsrf(event, tx.id, tx.csrf_hash, form.csrf) !== 'ok') return errorPage(403, 'access_denied', CSRF_FAILURE);
  const client = ctx.config.clients.get(tx.request.client_id);
  const connection = ctx.config.connections.get(tx.request.connection_id);
  if (!client || !connection) return errorPage(400, 'invalid_request', 'The application or its connection is no longer available.');
  const email = (form.email ?? '').trim().slice(0, 254);
  const tenantName = ctx.config.settings.friendly_name;
  if (!isEmail(email)) return renderRequestPage(400, { tenantName, transactionId: tx.id, csrfToken: form.csrf!, email, error: 'Enter a valid e-mail address.' });
  const limited = await takeChangePasswordToken(deps, ctx, email);
  if (limited) return renderRequestPage(429, { tenantName, transactionId: tx.id, csrfToken: form.csrf!, email, error: 'Too many requests for this address. Try again in a minute.' });
  await requestPasswordReset(deps, ctx, { client, connection, email });
  await ctx.log.flush();
  const nonce = cspNonce();
  const content = `<p class="tenant">${escapeHtml(tenantName)}</p>
<h1>Check your e-mail</h1>
<p class="lead" role="status">${escapeHtml(RESET_REQUESTED_MESSAGE)}</p>
<p class="note"><a href="${LOGIN_PATH}?state=${encodeURIComponent(tx.id)}">Back to log in</a></p>`;
  return html(200, page(`Check your e-mail | ${tenantName}`, nonce, content), nonce);
});
