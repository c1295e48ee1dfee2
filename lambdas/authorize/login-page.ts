import type { HttpResponse } from '../http/responses.js';
import { LOGIN_PATH } from './csrf.js';
import { cspNonce, escapeHtml, html, page } from './html.js';

export interface LoginPageModel {
  tenantName: string;
  clientName: string;
  transactionId: string;
  csrfToken: string;
  /** The email typed before, shown again after a failure. */
  email?: string;
  /** A message for the user; never says whether the email exists. */
  error?: string;
  /** The social connections enabled for the application: one button each. */
  socialConnections?: { name: string; label: string }[];
  /** False when the application has no database connection: the page shows only the provider buttons. */
  passwordForm?: boolean;
}

/** Shown for every failed password check, whatever the reason (the log says which). */
export const WRONG_CREDENTIALS_MESSAGE = 'Wrong email or password.';
export const LOCKED_OUT_MESSAGE =
  'Your account has been blocked after multiple consecutive login attempts. Try again later or reset your password.';
export const BLOCKED_MESSAGE = 'Your account has been blocked. Contact the application administrator.';
export const UNAVAILABLE_MESSAGE = 'We could not sign you in right now. Please try again in a moment.';

/** One button per social connection, in the same form: pressing it sends its connection's name instead of a password. */
function socialButtons(m: LoginPageModel): string {
  if (!m.socialConnections?.length) return '';
  const buttons = m.socialConnections
    .map((c) => `<button type="submit" name="connection" value="${escapeHtml(c.name)}" class="social" formnovalidate>Continue with ${escapeHtml(c.label)}</button>`)
    .join('\n');
  return m.passwordForm === false ? `\n${buttons}` : `\n<p class="or">or</p>\n${buttons}`;
}

function passwordFields(m: LoginPageModel, described: string): string {
  return `<label for="username">Email address</label>
<input id="username" name="username" type="email" autocomplete="username" inputmode="email" required autofocus value="${escapeHtml(m.email ?? '')}"${described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}>
<button type="submit">Continue</button>`;
}

/** The hosted login page: plain HTML and CSS, labelled fields, errors announced to screen readers. */
export function renderLoginPage(statusCode: number, m: LoginPageModel, cookies: string[] = []): HttpResponse {
  const nonce = cspNonce();
  const errorId = 'login-error';
  const described = m.error ? ` aria-describedby="${errorId}" aria-invalid="true"` : '';
  const content = `<p class="tenant">${escapeHtml(m.tenantName)}</p>
<h1>Welcome</h1>
<p class="lead">Log in to ${escapeHtml(m.tenantName)} to continue to ${escapeHtml(m.clientName)}.</p>
<form method="post" action="${LOGIN_PATH}" novalidate>
${m.error ? `<p class="error" id="${errorId}" role="alert">${escapeHtml(m.error)}</p>` : ''}
<input type="hidden" name="state" value="${escapeHtml(m.transactionId)}">
<input type="hidden" name="csrf" value="${escapeHtml(m.csrfToken)}">
${m.passwordForm === false ? socialButtons(m).trimStart() : passwordFields(m, described) + socialButtons(m)}
</form>${m.passwordForm === false ? '' : `
<p class="note"><a href="${LOGIN_PATH}/reset-request?state=${encodeURIComponent(m.transactionId)}">Forgot password?</a></p>`}`;
  return html(statusCode, page(`Log in | ${m.tenantName}`, nonce, content), nonce, { cookies });
}
