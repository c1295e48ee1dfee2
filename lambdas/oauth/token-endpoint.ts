import type { Deps } from '../deps.js';
import { header, type HttpEvent } from '../http/event.js';
import { json, type HttpResponse } from '../http/responses.js';
import { resolveTenantContext } from '../http/tenant-context.js';
import type { LogType } from '../logs/log-types.js';
import { authorizationCodeGrant } from './authorization-code-grant.js';
import { authenticateClient, ensureGrantAllowed } from './client-auth.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';
import type { ClientRecord } from '../store/records.js';
import { OAuthError, oauthErrors } from './errors.js';
import { formBody } from './form-body.js';
import { PASSWORD_REALM_GRANT, passwordGrant } from './password-grant.js';
import { refreshTokenGrant } from './refresh-token-grant.js';
import { baseTokenRequest, parseFields } from './token-request.js';

/** The failed-exchange log code of each grant (a client that fails to authenticate, or may not use the grant). */
const failedExchangeType: Record<string, LogType> = {
  password: 'fepft',
  [PASSWORD_REALM_GRANT]: 'fepft',
  refresh_token: 'fertft',
  client_credentials: 'feccft',
  authorization_code: 'feacft',
};

/** `POST /oauth/token`: authenticates the client, then hands over to the grant's own file. */
export async function tokenEndpoint(deps: Deps, event: HttpEvent): Promise<HttpResponse> {
  const body = formBody(event);
  const base = parseFields(baseTokenRequest, body);
  const ctx = await resolveTenantContext(deps, event);
  const grantType = base.grant_type;
  const knownGrants = ['password', PASSWORD_REALM_GRANT, 'refresh_token', 'client_credentials', 'authorization_code'];
  if (!knownGrants.includes(grantType)) throw oauthErrors.unsupportedGrantType(grantType);
  let client: ClientRecord;
  try {
    client = authenticateClient(ctx.config, {
      authorization: header(event, 'authorization'),
      clientId: base.client_id,
      clientSecret: base.client_secret,
      secretRequired: grantType === 'client_credentials',
    });
    ensureGrantAllowed(client, grantType);
  } catch (err) {
    if (err instanceof OAuthError && (err.status === 401 || err.status === 403)) {
      // Only a known client id is logged: an unknown one may be anything the caller typed.
      const known = base.client_id !== undefined ? ctx.config.clients.get(base.client_id) : undefined;
      ctx.log.add({
        type: failedExchangeType[grantType] ?? 'f',
        client_id: known?.client_id,
        client_name: known?.name,
        reason: err.status === 401 ? 'invalid_client' : 'unauthorized_client',
      });
      await ctx.log.flush();
    }
    throw err;
  }
  switch (grantType) {
    case 'password':
    case PASSWORD_REALM_GRANT:
      return json(200, await passwordGrant(deps, ctx, client, grantType, body));
    case 'refresh_token':
      return json(200, await refreshTokenGrant(deps, ctx, client, body));
    case 'authorization_code':
      return json(200, await authorizationCodeGrant(deps, ctx, client, body));
    default:
      return json(200, await clientCredentialsGrant(deps, ctx, client, body));
  }
}
