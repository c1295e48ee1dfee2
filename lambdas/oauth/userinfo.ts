import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Deps } from '../deps.js';
import { header, type HttpEvent } from '../http/event.js';
import { json, type HttpResponse } from '../http/responses.js';
import { resolveTenantContext, type TenantContextDeps } from '../http/tenant-context.js';
import { profileClaims } from '../tokens/mint.js';
import { oauthErrors } from './errors.js';

/** `GET|POST /userinfo`: the user's profile claims allowed by the access token's scopes. */
export async function userinfoEndpoint(deps: TenantContextDeps & Pick<Deps, 'now' | 'signingKeys' | 'users'>, event: HttpEvent): Promise<HttpResponse> {
  const authorization = header(event, 'authorization') ?? '';
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(authorization);
  const unauthorized = () => {
    const err = oauthErrors.invalidToken();
    return json(401, err.body(), { 'www-authenticate': 'Bearer error="invalid_token"' });
  };
  if (!m) return unauthorized();
  const ctx = await resolveTenantContext(deps, event);
  let payload: Record<string, unknown>;
  try {
    const jwks = createLocalJWKSet(await deps.signingKeys.publicJwks(ctx.tenant));
    ({ payload } = await jwtVerify(m[1], jwks, {
      issuer: ctx.issuer,
      audience: `${ctx.issuer}userinfo`,
      algorithms: ['RS256'],
      currentDate: new Date(deps.now()),
    }));
  } catch {
    return unauthorized();
  }
  const sub = String(payload.sub ?? '');
  const user = sub ? await deps.users.getUser(ctx.tenant, sub) : undefined;
  if (!user || user.blocked) return unauthorized();
  return json(200, { sub: user.user_id, ...profileClaims(user, String(payload.scope ?? '')) });
}
