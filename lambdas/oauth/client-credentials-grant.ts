import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { ClientGrantRecord, ClientRecord } from '../store/records.js';
import { mintAccessToken } from '../tokens/mint.js';
import { oauthErrors } from './errors.js';
import { clientCredentialsRequest, parseFields } from './token-request.js';

/** The Management API's audience on the domain the request came to. */
export function managementAudience(issuer: string): string {
  return `${issuer}api/v2/`;
}

/**
 * Finds the client grant for (client, audience). A grant for the Management API may be stored
 * with the audience `/api/v2/`, meaning "this service's Management API on any of its domains",
 * so a tenant's configuration does not depend on the domain it is served from.
 */
export function findClientGrant(
  grants: ClientGrantRecord[],
  clientId: string,
  audience: string,
  issuer: string,
): ClientGrantRecord | undefined {
  return grants.find(
    (g) =>
      g.client_id === clientId &&
      (g.audience === audience || (g.audience === '/api/v2/' && audience === managementAudience(issuer))),
  );
}

export type ClientCredentialsGrantDeps = Pick<Deps, 'now' | 'signingKeys'>;

/** `client_credentials` for machine clients: the scopes come from the client grant. */
export async function clientCredentialsGrant(
  deps: ClientCredentialsGrantDeps,
  ctx: TenantContext,
  client: ClientRecord,
  body: Record<string, string>,
): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number; scope?: string }> {
  const req = parseFields(clientCredentialsRequest, body);
  const audience = req.audience || ctx.config.settings.default_audience;
  const event = { client_id: client.client_id, client_name: client.name };
  const fail = async (reason: string, error: Error): Promise<never> => {
    ctx.log.add({ ...event, type: 'feccft', reason });
    await ctx.log.flush();
    throw error;
  };
  if (!audience) return fail('no_audience', oauthErrors.accessDenied('No audience parameter was provided, and no default audience has been configured'));
  const known = ctx.config.resourceServers.has(audience) || audience === managementAudience(ctx.issuer);
  // A grant whose API was deleted serves nothing (the API's deletion removes its grants after it).
  const grant = known ? findClientGrant(ctx.config.clientGrants, client.client_id, audience, ctx.issuer) : undefined;
  if (!grant) {
    return fail(
      'no_client_grant',
      oauthErrors.accessDenied(known ? `Client has not been granted scopes for: ${audience}` : `Service not found: ${audience}`),
    );
  }
  const requested = req.scope?.split(/\s+/).filter(Boolean);
  const scopes = requested ? requested.filter((s) => grant.scope.includes(s)) : grant.scope;
  if (requested && scopes.length < requested.length) {
    return fail('scope_not_granted', oauthErrors.accessDenied('Client has not been granted all requested scopes'));
  }
  const api = ctx.config.resourceServers.get(audience);
  const lifetime = api?.token_lifetime ?? 86400;
  const key = await deps.signingKeys.current(ctx.tenant);
  const accessToken = await mintAccessToken({
    key,
    issuer: ctx.issuer,
    subject: `${client.client_id}@clients`,
    audience,
    clientId: client.client_id,
    scope: scopes.join(' '),
    grantType: 'client-credentials',
    issuedAt: Math.floor(deps.now() / 1000),
    lifetime,
    // As Auth0 does for machine clients: with the RBAC dialect, the granted scopes are the permissions.
    ...(api?.token_dialect === 'access_token_authz' ? { extraClaims: { permissions: scopes } } : {}),
  });
  ctx.log.add({ ...event, type: 'seccft', details: { audience } });
  await ctx.log.flush();
  return { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime, scope: scopes.join(' ') };
}
