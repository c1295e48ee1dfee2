import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { givingBackAttemptOnFailure } from '../identity/login-outcome.js';
import { authenticateWithPassword, type PasswordLoginOutcome, type PasswordCheckDeps } from '../identity/password-login.js';
import { isSecureIssuer } from './cookies.js';
import { checkCsrf, clearCsrfCookie } from './csrf.js';
import { errorPage } from './html.js';
import { formFieldsOf, htmlEndpoint } from './html-endpoint.js';
import { EXPIRED_TRANSACTION } from './login-get.js';
import {
  BLOCKED_MESSAGE,
  LOCKED_OUT_MESSAGE,
  renderLoginPage,
  UNAVAILABLE_MESSAGE,
  WRONG_CREDENTIALS_MESSAGE,
} from './login-page.js';
import { completeLoginTransaction, findLoginTransaction, type LoginTransactionDeps } from './login-transaction.js';
import { signInAndReply, type SignInDeps } from './sign-in-reply.js';
import { socialConnectionsOf, startSocialFromPage } from '../social/social-buttons.js';
import type { StartSocialLoginDeps } from '../social/start-social-login.js';

export const CSRF_FAILURE = 'The login form could not be verified. Return to the application and sign in again.';

/** The page message of a failed password login: one message for every credential failure. */
export function pageMessageOf(outcome: Exclude<PasswordLoginOutcome, { kind: 'ok' }>): { status: number; message: string } {
  switch (outcome.kind) {
    case 'too_many_attempts':
      return { status: 429, message: LOCKED_OUT_MESSAGE };
    case 'upstream_unavailable':
      return { status: 503, message: UNAVAILABLE_MESSAGE };
    case 'blocked':
      return { status: 401, message: BLOCKED_MESSAGE };
    case 'wrong_credentials':
      return { status: 400, message: WRONG_CREDENTIALS_MESSAGE };
  }
}

export type LoginPostDeps = TenantContextDeps & LoginTransactionDeps & StartSocialLoginDeps & PasswordCheckDeps & SignInDeps & Pick<Deps, 'passwordFallback'>;

/**
 * `POST /u/login`: checks the CSRF token (form field = cookie = stored hash), authenticates with
 * the same function as the password grant (lockout, upstream fallback in import mode, logs),
 * starts the login session and sends a one-time code back to the application.
 */
export const loginPostEndpoint = htmlEndpoint(async (deps: LoginPostDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const form = formFieldsOf(event);
  const tx = await findLoginTransaction(deps, ctx.tenant, form.state);
  if (!tx) return errorPage(400, 'invalid_request', EXPIRED_TRANSACTION);
  const csrf = checkCsrf(event, tx.id, tx.csrf_hash, form.csrf);
  if (csrf !== 'ok') {
    deps.sink.info('login_csrf_rejected', { reason: csrf, tenant: ctx.tenant });
    return errorPage(403, 'access_denied', CSRF_FAILURE);
  }
  const { request } = tx;
  const client = ctx.config.clients.get(request.client_id);
  const connection = ctx.config.connections.get(request.connection_id);
  if (!client || !connection || !connection.enabled_clients.includes(client.client_id)) {
    return errorPage(400, 'invalid_request', 'The application or its connection is no longer available.');
  }
  if (form.connection !== undefined) return startSocialFromPage(deps, ctx, tx, form.connection);
  const email = (form.username ?? '').trim();
  const password = form.password ?? '';
  const again = (status: number, error: string) =>
    renderLoginPage(status, {
      tenantName: ctx.config.settings.friendly_name,
      clientName: client.name,
      transactionId: tx.id,
      csrfToken: form.csrf!,
      email,
      error,
      socialConnections: socialConnectionsOf(ctx, client.client_id),
      passwordForm: connection.strategy === 'auth0',
    });
  // An application with social connections only: its page has no password form to post.
  if (connection.strategy !== 'auth0') return again(400, 'Choose how to sign in.');
  if (!email || !password) return again(400, 'Enter your email address and password.');
  // Never truncated: a cut password would be compared as another one. Bounded in bytes, as the token endpoint.
  if (Buffer.byteLength(email, 'utf8') > 512 || Buffer.byteLength(password, 'utf8') > 1024) {
    return again(400, 'Enter your email address and password.');
  }

  const input = { connection, username: email, password, clientId: client.client_id, clientName: client.name };
  const outcome = await authenticateWithPassword(deps, ctx, input, deps.passwordFallback);
  if (outcome.kind !== 'ok') {
    const { status, message } = pageMessageOf(outcome);
    return again(status, message);
  }
  const { login } = outcome;
  // The password was right: whatever happens next, the lockout attempt it took is given back.
  const completed = await givingBackAttemptOnFailure(ctx, () => completeLoginTransaction(deps, ctx.tenant, tx.id));
  if (!completed) {
    await ctx.log.flushDeletes();
    return errorPage(400, 'invalid_request', EXPIRED_TRANSACTION);
  }
  const secure = isSecureIssuer(ctx.issuer);
  return signInAndReply(deps, ctx, { request, login, connectionId: connection.id, cookies: [clearCsrfCookie(tx.id, secure)] });
});
