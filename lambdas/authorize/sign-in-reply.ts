import type { TenantContext } from '../http/tenant-context.js';
import type { HttpResponse } from '../http/responses.js';
import { givingBackAttemptOnFailure, recordSuccessfulLogin, type PasswordLoginSuccess } from '../identity/login-outcome.js';
import { issueAuthorizationCode, replyToClient } from './authorization-response.js';
import type { AuthorizeRequest } from './authorize-request.js';
import { isSecureIssuer } from './cookies.js';
import { startLoginSession, type LoginSessionDeps } from './session.js';

/** What the end of an interactive login uses: the session, the login's records and the code. */
export type SignInDeps = LoginSessionDeps & Parameters<typeof issueAuthorizationCode>[0] & Parameters<typeof recordSuccessfulLogin>[0];

/**
 * The end of every interactive login (login page, social callback): logs `s`, starts the login
 * session, records the login and sends a one-time code back to the application.
 */
export async function signInAndReply(
  deps: SignInDeps,
  ctx: TenantContext,
  p: { request: AuthorizeRequest; login: PasswordLoginSuccess; connectionId: string; cookies: string[] },
): Promise<HttpResponse> {
  const { request, login } = p;
  const { session, code } = await givingBackAttemptOnFailure(ctx, async () => {
    const [session] = await Promise.all([
      startLoginSession(deps, { tenant: ctx.tenant, userId: login.user.user_id, connectionId: p.connectionId, secure: isSecureIssuer(ctx.issuer) }),
      recordSuccessfulLogin(deps, ctx, login, ['s']),
    ]);
    const code = await issueAuthorizationCode(deps, ctx, request, login.user, session.session.auth_time, session.session.sid);
    return { session, code };
  });
  return replyToClient(
    { redirect_uri: request.redirect_uri, response_mode: request.response_mode, state: request.state },
    { code },
    [session.cookie, ...p.cookies],
  );
}
