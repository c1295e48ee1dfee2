import type { Deps } from '../deps.js';
import { header, type HttpEvent } from '../http/event.js';
import { json, type HttpResponse } from '../http/responses.js';
import { resolveTenantContext } from '../http/tenant-context.js';
import { authenticateClient, ensureGrantAllowed } from './client-auth.js';
import { clientCredentialsGrant } from './client-credentials-grant.js';
import { oauthErrors } from './errors.js';
import { formBody } from './form-body.js';
import { PASSWORD_REALM_GRANT, passwordGrant } from './password-grant.js';
import { refreshTokenGrant } from './refresh-token-grant.js';
import { baseTokenRequest, parseFields } from './token-request.js';

/** `POST /oauth/token`: authenticates the client, then hands over to the grant's own file. */
export async function tokenEndpoint(deps: Deps, event: HttpEvent): Promise<HttpResponse> {
  const body = formBody(event);
  const base = parseFields(baseTokenRequest, body);
  const ctx = await resolveTenantContext(deps, event);
  const grantType = base.grant_type;
  const knownGrants = ['password', PASSWORD_REALM_GRANT, 'refresh_token', 'client_credentials'];
  if (!knownGrants.includes(grantType)) throw oauthErrors.unsupportedGrantType(grantType);
  const client = authenticateClient(ctx.config, {
    authorization: header(event, 'authorization'),
    clientId: base.client_id,
    clientSecret: base.client_secret,
    secretRequired: grantType === 'client_credentials',
  });
  ensureGrantAllowed(client, grantType);
  switch (grantType) {
    case 'password':
    case PASSWORD_REALM_GRANT:
      return json(200, await passwordGrant(deps, ctx, client, grantType, body));
    case 'refresh_token':
      return json(200, await refreshTokenGrant(deps, ctx, client, body));
    default:
      return json(200, await clientCredentialsGrant(deps, ctx, client, body));
  }
}
