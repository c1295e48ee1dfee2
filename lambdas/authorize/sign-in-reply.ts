import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { HttpResponse } from '../http/responses.js';
import { logLoginSuccess, type PasswordLoginSuccess } from '../identity/login-outcome.js';
import { issueAuthorizationCode, replyToClient } from './authorization-response.js';
import type { AuthorizeRequest } from './authorize-request.js';
import { isSecureIssuer } from './cookies.js';
import { startLoginSession } from './session.js';
import { countSignInAfterImport } from '../jobs/import-counters.js';

/**
 * The end of every interactive login (login page, social callback): logs `s`, starts the login
 * session, records the login and sends a one-time code back to the application.
 */
export async function signInAndReply(
  deps: Deps,
  ctx: TenantContext,
  p: { request: AuthorizeRequest; login: PasswordLoginSuccess; connectionId: string; cookies: string[] },
): Promise<HttpResponse> {
  const { request, login } = p;
  let code: string;
  let session: Awaited<ReturnType<typeof startLoginSession>>;
  try {
    logLoginSuccess(ctx, login, ['s']);
    [session] = await Promise.all([
      startLoginSession(deps, { tenant: ctx.tenant, userId: login.user.user_id, connectionId: p.connectionId, secure: isSecureIssuer(ctx.issuer) }),
      ctx.log.flush(),
      deps.users
        .recordLogin(ctx.tenant, login.user.user_id, new Date(deps.now()).toISOString(), ctx.ip)
        .then((first) => countSignInAfterImport(deps, ctx.tenant, login.user, first)),
    ]);
    code = await issueAuthorizationCode(deps, ctx, request, login.user, session.session.auth_time, session.session.sid);
  } catch (err) {
    await ctx.log.flushDeletes().catch(() => {});
    throw err;
  }
  return replyToClient(
    { redirect_uri: request.redirect_uri, response_mode: request.response_mode, state: request.state },
    { code },
    [session.cookie, ...p.cookies],
  );
}
