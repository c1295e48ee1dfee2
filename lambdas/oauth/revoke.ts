import type { Deps } from '../deps.js';
import { header, type HttpEvent } from '../http/event.js';
import { json, type HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { parseRefreshToken, secretMatches } from '../tokens/refresh-token-format.js';
import { authenticateClient } from './client-auth.js';
import { formBody } from './form-body.js';
import { parseFields, revokeRequest } from './token-request.js';

/**
 * `POST /oauth/revoke` (RFC 7009): revokes the refresh token's whole family (log `srrt`).
 * An unknown token or one of another client answers 200 too, so the endpoint cannot be used to
 * probe tokens.
 */
export async function revokeEndpoint(deps: TenantContextDeps & Pick<Deps, 'now' | 'refreshTokens'>, event: HttpEvent): Promise<HttpResponse> {
  const body = formBody(event);
  const req = parseFields(revokeRequest, body);
  const ctx = await resolveTenantContext(deps, event);
  const client = authenticateClient(ctx.config, {
    authorization: header(event, 'authorization'),
    clientId: req.client_id,
    clientSecret: req.client_secret,
  });
  const parsed = parseRefreshToken(req.token);
  if (parsed) {
    const token = await deps.refreshTokens.getToken(parsed.tokenId);
    if (
      token &&
      token.tenant === ctx.tenant &&
      token.client_id === client.client_id &&
      secretMatches(parsed.secret, token.hash)
    ) {
      await deps.refreshTokens.revokeFamily(token.family_id, Math.floor(deps.now() / 1000), 'revoked_by_client');
      ctx.log.add({ type: 'srrt', client_id: client.client_id, client_name: client.name, user_id: token.user_id });
      await ctx.log.flush();
    }
  }
  return { statusCode: 200, headers: { 'cache-control': 'no-store' }, body: '' };
}
