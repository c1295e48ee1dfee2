import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { Deps } from '../deps.js';
import { header, type HttpEvent } from '../http/event.js';
import type { TenantContext } from '../http/tenant-context.js';
import { managementAudience } from '../oauth/client-credentials-grant.js';
import { managementErrors } from './errors.js';

/** Every scope the Management API knows (a client grant for it may hold only these). */
export const managementScopes = [
  'read:users', 'create:users', 'update:users', 'delete:users',
  'read:connections', 'create:connections', 'update:connections', 'delete:connections',
  'read:clients', 'create:clients', 'update:clients', 'delete:clients',
  'read:client_grants', 'create:client_grants', 'update:client_grants', 'delete:client_grants',
  'read:logs', 'read:hooks', 'create:hooks', 'update:hooks', 'delete:hooks',
  'read:migration_sources', 'create:migration_sources', 'update:migration_sources', 'delete:migration_sources',
  'create:users_imports', 'read:users_imports',
  'read:resource_servers', 'create:resource_servers', 'update:resource_servers', 'delete:resource_servers',
  'read:roles', 'create:roles', 'update:roles', 'delete:roles',
  'read:role_members', 'create:role_members', 'delete:role_members',
  'read:claim_mappings', 'create:claim_mappings', 'delete:claim_mappings',
  'read:attack_protection', 'update:attack_protection',
  'read:stats',
  'create:user_tickets',
] as const;

/** Who calls the Management API: the machine client of a verified token, and its scopes. */
export interface ManagementCaller {
  clientId: string;
  scopes: Set<string>;
}

/**
 * Verifies the Bearer token of a Management API request: RS256 signed by one of the tenant's
 * keys, issued by this very issuer (host → tenant), for this issuer's `/api/v2/` audience,
 * minted by the `client_credentials` grant for a client that still exists. A token of another
 * tenant fails on both the keys and the issuer.
 */
export async function authenticateManagementCaller(deps: Pick<Deps, 'now' | 'signingKeys'>, ctx: TenantContext, event: HttpEvent): Promise<ManagementCaller> {
  const authorization = header(event, 'authorization');
  if (!authorization) throw managementErrors.missingAuthentication();
  const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i.exec(authorization);
  if (!m) throw managementErrors.invalidToken();
  const jwks = createLocalJWKSet(await deps.signingKeys.publicJwks(ctx.tenant));
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(m[1], jwks, {
      issuer: ctx.issuer,
      audience: managementAudience(ctx.issuer),
      algorithms: ['RS256'],
      currentDate: new Date(deps.now()),
      requiredClaims: ['exp', 'iat', 'sub'],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw managementErrors.expiredToken();
    throw managementErrors.invalidToken();
  }
  const clientId = typeof payload.azp === 'string' ? payload.azp : undefined;
  if (payload.gty !== 'client-credentials' || !clientId || payload.sub !== `${clientId}@clients`) {
    throw managementErrors.invalidToken();
  }
  if (!ctx.config.clients.has(clientId)) throw managementErrors.invalidToken();
  const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []);
  return { clientId, scopes };
}

/** Refuses with 403 `insufficient_scope` unless the caller holds one of `anyOf`. */
export function requireScope(caller: ManagementCaller, anyOf: readonly string[]): void {
  if (!anyOf.some((s) => caller.scopes.has(s))) throw managementErrors.insufficientScope(anyOf);
}
