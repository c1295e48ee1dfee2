import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { issueAuthorizationCode, replyError, replyToClient } from './authorization-response.js';
import { validateAuthorizeRequest, type AuthorizeRequest } from './authorize-request.js';
import { isSecureIssuer } from './cookies.js';
import { csrfCookie, LOGIN_PATH, newCsrfToken } from './csrf.js';
import { errorPage, redirect } from './html.js';
import { htmlEndpoint, queryOf } from './html-endpoint.js';
import { createLoginTransaction, LOGIN_TRANSACTION_SECONDS, type LoginTransactionDeps } from './login-transaction.js';
import { currentLoginSession, type LoginSessionDeps } from './session.js';
import { isSocialConnection } from '../social/social-strategies.js';
import { startSocialLogin, type StartSocialLoginDeps } from '../social/start-social-login.js';

type SessionUserDeps = Pick<Deps, 'now' | 'users'> & LoginSessionDeps;
export type AuthorizeDeps = TenantContextDeps & SessionUserDeps & StartSocialLoginDeps & LoginTransactionDeps & Pick<Deps, 'authorizationCodes'>;

/** The signed-in user of the request's login session, if it may answer this request. */
async function sessionUser(deps: SessionUserDeps, ctx: TenantContext, event: HttpEvent, request: AuthorizeRequest) {
  const session = await currentLoginSession(deps, ctx.tenant, event);
  if (!session || session.connection_id !== request.connection_id) return undefined;
  // max_age: a session signed in longer ago must sign in again (prompt=none then answers login_required).
  if (request.max_age !== undefined && Math.floor(deps.now() / 1000) - session.auth_time > request.max_age) return undefined;
  const user = await deps.users.getUser(ctx.tenant, session.user_id);
  return user && !user.blocked ? { user, authTime: session.auth_time, sid: session.sid } : undefined;
}

/**
 * `GET /authorize` (authorization code flow, PKCE). A live login session answers at once
 * (unless `prompt=login`); `prompt=none` without one answers `login_required`; otherwise the
 * validated request is stored and the browser goes to the login page with a CSRF cookie.
 */
export const authorizeEndpoint = htmlEndpoint(async (deps: AuthorizeDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const v = validateAuthorizeRequest(ctx, queryOf(event));
  if (v.kind === 'page') return errorPage(400, v.error, v.description);
  if (v.kind === 'redirect') return replyError(v.target, v.error, v.description);
  const { request } = v;
  const target = { redirect_uri: request.redirect_uri, response_mode: request.response_mode, state: request.state };

  if (request.prompt !== 'login') {
    const signedIn = await sessionUser(deps, ctx, event, request);
    if (signedIn) {
      const code = await issueAuthorizationCode(deps, ctx, request, signedIn.user, signedIn.authTime, signedIn.sid);
      return replyToClient(target, { code });
    }
  }
  if (request.prompt === 'none') return replyError(target, 'login_required', 'Login required');
  // Asked for by name, a social connection skips the login page; otherwise the page shows its button.
  if (v.connectionAsked && isSocialConnection(v.connection)) return startSocialLogin(deps, ctx, request, v.connection);

  const csrf = newCsrfToken();
  const tx = await createLoginTransaction(deps, ctx.tenant, request, csrf.hash);
  const secure = isSecureIssuer(ctx.issuer);
  return redirect(`${LOGIN_PATH}?state=${encodeURIComponent(tx.id)}`, [
    csrfCookie(tx.id, csrf.token, secure, LOGIN_TRANSACTION_SECONDS),
  ]);
});
