import { replyError } from '../authorize/authorization-response.js';
import type { AuthorizeRequest } from '../authorize/authorize-request.js';
import { isSecureIssuer } from '../authorize/cookies.js';
import { redirect } from '../authorize/html.js';
import type { HttpResponse } from '../http/responses.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { ConnectionRecord } from '../store/records.js';
import { providerAuthorizationUrl, type ProviderFlowDeps } from './provider-flow.js';
import { ProviderError } from './provider-metadata.js';
import { browserCookie, CALLBACK_PATH, createSocialTransaction, SOCIAL_TRANSACTION_SECONDS, type SocialTransactionDeps } from './social-transaction.js';

/** `https://<domain>/login/callback`: the redirect URI Auth0 registered at every provider. */
export function callbackUrl(ctx: TenantContext): string {
  return `${ctx.issuer.replace(/\/$/, '')}${CALLBACK_PATH}`;
}

/** The log fields of a social login's events (`s`, `f`). */
export function socialEventFields(ctx: TenantContext, request: AuthorizeRequest, connection: ConnectionRecord) {
  return {
    client_id: request.client_id,
    client_name: ctx.config.clients.get(request.client_id)?.name,
    connection: connection.name,
    connection_id: connection.id,
    strategy: connection.strategy,
  };
}

/** What starting a social login uses: the social transaction and the provider's authorization URL. */
export type StartSocialLoginDeps = SocialTransactionDeps & ProviderFlowDeps;

/**
 * Sends the browser straight to the provider for a validated `/authorize` request whose
 * connection is social: state (bound to this browser by a cookie), nonce and PKCE S256 where
 * the provider takes them. An unreachable provider leaves only an expiring transaction behind.
 */
export async function startSocialLogin(deps: StartSocialLoginDeps, ctx: TenantContext, request: AuthorizeRequest, connection: ConnectionRecord): Promise<HttpResponse> {
  const target = { redirect_uri: request.redirect_uri, response_mode: request.response_mode, state: request.state };
  const { tx, browserToken } = await createSocialTransaction(deps, { tenant: ctx.tenant, request, connectionId: connection.id });
  let url: string;
  try {
    url = await providerAuthorizationUrl(deps, connection, {
      redirectUri: callbackUrl(ctx),
      state: tx.id,
      nonce: tx.nonce,
      codeVerifier: tx.code_verifier,
      prompt: request.prompt,
      loginHint: request.login_hint,
    });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    ctx.log.add({ ...socialEventFields(ctx, request, connection), type: 'f', reason: err.reason, description: 'The identity provider could not be reached' });
    await ctx.log.flush();
    return replyError(target, 'access_denied', 'The identity provider could not be reached.');
  }
  return redirect(url, [browserCookie(tx.id, browserToken, isSecureIssuer(ctx.issuer), SOCIAL_TRANSACTION_SECONDS)]);
}
