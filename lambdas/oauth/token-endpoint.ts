import { header, type HttpEvent } from '../http/event.js';
import { json, type HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import type { LogType } from '../logs/log-types.js';
import { authorizationCodeGrant, type AuthorizationCodeGrantDeps } from './authorization-code-grant.js';
import { authenticateClient, ensureGrantAllowed } from './client-auth.js';
import { clientCredentialsGrant, type ClientCredentialsGrantDeps } from './client-credentials-grant.js';
import type { ClientRecord } from '../store/records.js';
import { OAuthError, oauthErrors } from './errors.js';
import { formBody } from './form-body.js';
import type { TokenResponse } from './issue-tokens.js';
import { PASSWORD_REALM_GRANT, passwordGrant, type PasswordGrantDeps } from './password-grant.js';
import { refreshTokenGrant, type RefreshGrantDeps } from './refresh-token-grant.js';
import { baseTokenRequest, parseFields } from './token-request.js';

/** What the grants together read from the composition. */
export type GrantDeps = PasswordGrantDeps & RefreshGrantDeps & ClientCredentialsGrantDeps & AuthorizationCodeGrantDeps;

/** A grant: its handler, the log code of a failed exchange (client refused) and whether it needs a client secret. */
interface Grant {
  handle(deps: GrantDeps, ctx: TenantContext, client: ClientRecord, body: Record<string, string>, grantType: string): Promise<TokenResponse>;
  failedExchange: LogType;
  secretRequired?: boolean;
}

const password: Grant = { handle: (deps, ctx, client, body, grantType) => passwordGrant(deps, ctx, client, grantType, body), failedExchange: 'fepft' };

/** The grants `/oauth/token` serves, by `grant_type`: the one list of them. */
const grants: Record<string, Grant> = {
  password,
  [PASSWORD_REALM_GRANT]: password,
  refresh_token: { handle: refreshTokenGrant, failedExchange: 'fertft' },
  client_credentials: { handle: clientCredentialsGrant, failedExchange: 'feccft', secretRequired: true },
  authorization_code: { handle: authorizationCodeGrant, failedExchange: 'feacft' },
};

/** `POST /oauth/token`: authenticates the client, then hands over to the grant's own file. */
export async function tokenEndpoint(deps: TenantContextDeps & GrantDeps, event: HttpEvent): Promise<HttpResponse> {
  const body = formBody(event);
  const base = parseFields(baseTokenRequest, body);
  const ctx = await resolveTenantContext(deps, event);
  const grantType = base.grant_type;
  const grant = Object.hasOwn(grants, grantType) ? grants[grantType] : undefined;
  if (!grant) throw oauthErrors.unsupportedGrantType(grantType);
  let client: ClientRecord;
  try {
    client = authenticateClient(ctx.config, {
      authorization: header(event, 'authorization'),
      clientId: base.client_id,
      clientSecret: base.client_secret,
      secretRequired: grant.secretRequired ?? false,
    });
    ensureGrantAllowed(client, grantType);
  } catch (err) {
    if (err instanceof OAuthError && (err.status === 401 || err.status === 403)) {
      // Only a known client id is logged: an unknown one may be anything the caller typed.
      const known = base.client_id !== undefined ? ctx.config.clients.get(base.client_id) : undefined;
      ctx.log.add({
        type: grant.failedExchange,
        client_id: known?.client_id,
        client_name: known?.name,
        reason: err.status === 401 ? 'invalid_client' : 'unauthorized_client',
      });
      await ctx.log.flush();
    }
    throw err;
  }
  return json(200, await grant.handle(deps, ctx, client, body, grantType));
}
