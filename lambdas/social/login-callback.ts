import { replyError } from '../authorize/authorization-response.js';
import { isSecureIssuer } from '../authorize/cookies.js';
import { errorPage } from '../authorize/html.js';
import { formFieldsOf, htmlEndpoint, queryOf } from '../authorize/html-endpoint.js';
import { EXPIRED_TRANSACTION, FOREIGN_TRANSACTION } from '../authorize/login-get.js';
import { signInAndReply, type SignInDeps } from '../authorize/sign-in-reply.js';
import type { HttpEvent } from '../http/event.js';
import type { HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { isFrontChannel, redeemProviderCallback, type ProviderIdentity, type ProviderFlowDeps } from './provider-flow.js';
import { ProviderError } from './provider-metadata.js';
import { findOrCreateSocialUser, type SocialUserDeps } from './social-user.js';
import { browserCookie, consumeSocialTransaction, findSocialTransaction, isSameBrowser, type SocialTransactionDeps } from './social-transaction.js';
import { callbackUrl, socialEventFields } from './start-social-login.js';

export const INVALID_STATE = 'Invalid state. Return to the application and sign in again.';

export type LoginCallbackDeps = TenantContextDeps & SocialTransactionDeps & ProviderFlowDeps & SocialUserDeps & SignInDeps;

/**
 * `GET|POST /login/callback`: the provider's answer. The state must name a live transaction that
 * this browser started (cookie), and is used once. Then the code is redeemed, the id_token
 * verified, the user found or created as `<strategy>|<provider id>`, and the usual code,
 * session and tokens follow. Provider errors and a cancel become `access_denied` at the app.
 */
export const loginCallbackEndpoint = htmlEndpoint(async (deps: LoginCallbackDeps, event: HttpEvent): Promise<HttpResponse> => {
  const ctx = await resolveTenantContext(deps, event);
  const posted = event.requestContext?.http?.method === 'POST';
  const params = posted ? formFieldsOf(event) : queryOf(event);
  const tx = await findSocialTransaction(deps, ctx.tenant, params.state);
  if (!tx) return errorPage(400, 'invalid_request', INVALID_STATE);
  if (!isSameBrowser(event, tx)) {
    deps.sink.info('social_callback_foreign_browser', { tenant: ctx.tenant });
    return errorPage(403, 'access_denied', FOREIGN_TRANSACTION);
  }
  if (!(await consumeSocialTransaction(deps, ctx.tenant, tx.id))) return errorPage(400, 'invalid_request', EXPIRED_TRANSACTION);

  const { request } = tx;
  const secure = isSecureIssuer(ctx.issuer);
  const cookies = [browserCookie(tx.id, '', secure, 0)];
  const target = { redirect_uri: request.redirect_uri, response_mode: request.response_mode, state: request.state };
  const client = ctx.config.clients.get(request.client_id);
  const connection = ctx.config.connections.get(tx.connection_id);
  if (!client || !connection || !connection.enabled_clients.includes(client.client_id)) {
    return errorPage(400, 'invalid_request', 'The application or its connection is no longer available.');
  }
  const fields = socialEventFields(ctx, request, connection);
  const refuse = async (reason: string, description: string, error = 'access_denied', migration?: 'social') => {
    ctx.log.add({ ...fields, type: 'f', reason, description, ...(migration ? { migration } : {}) });
    await ctx.log.flush();
    return replyError(target, error, description, cookies);
  };

  if (params.error) {
    const said = (params.error_description ?? '').replace(/[^\x20-\x7e]/g, '').slice(0, 200);
    return refuse(`provider_${params.error.replace(/[^a-z_]/gi, '').slice(0, 40)}`, said || 'The identity provider refused the sign-in.');
  }
  if (!params.code && !(isFrontChannel(connection) && params.id_token)) {
    return refuse('provider_no_code', 'The identity provider returned no authorization code.');
  }

  let identity: ProviderIdentity;
  try {
    identity = await redeemProviderCallback(deps, connection, { params, redirectUri: callbackUrl(ctx), codeVerifier: tx.code_verifier, nonce: tx.nonce, posted });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return refuse(err.reason, 'The response of the identity provider could not be verified.');
  }

  const found = await findOrCreateSocialUser(deps, ctx, connection, identity);
  // A refusal after the upstream was asked about the user is a migration attempt of its own (drain figures).
  if (found.kind === 'denied') return refuse(found.reason, found.description, found.error, found.upstream === 'not_asked' ? undefined : 'social');
  const details = found.migration ? { details: { upstream_user: found.upstream } } : {};
  const login = { user: found.user, event: { ...fields, user_id: found.user.user_id, user_name: found.user.email, ...details }, migration: found.migration };
  if (found.user.blocked) return refuse('user_blocked', 'user is blocked', 'unauthorized');
  return signInAndReply(deps, ctx, { request, login, connectionId: connection.id, cookies });
});
