import type { Deps } from '../deps.js';
import { PostLoginFailure, runPostLogin, type PostLoginEvent } from '../extensions/post-login.js';
import type { TenantContext } from '../http/tenant-context.js';
import { existingRoles, permissionsOfRoles } from '../identity/user-permissions.js';
import type { ClaimMappingRecord, ClientRecord, ResourceServerRecord, RoleRecord, UserRecord } from '../store/records.js';
import { oauthErrors } from './errors.js';

/** Claims a custom claim may never set: what the token service itself vouches for. */
const RESERVED_CLAIMS = new Set([
  'iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'nbf', 'jti', 'scope', 'gty', 'permissions', 'nonce', 'auth_time', 'sid',
  'amr', 'acr', 'at_hash', 'c_hash', 'cnf', 'client_id', 'org_id', 'org_name',
]);

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access', 'address', 'phone']);

export interface TokenClaims {
  /** The granted scope after RBAC (`enforce_policies` keeps only the API scopes the user holds). */
  scope: string;
  accessClaims: Record<string, unknown>;
  idClaims: Record<string, unknown>;
}

function valueAt(root: unknown, path: string[]): unknown {
  let value = root;
  for (const part of path) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The value a declarative mapping takes from the user: `app_metadata.a.b`, `user_metadata.x`, or `roles`. */
export function mappedValue(mapping: ClaimMappingRecord, user: UserRecord, roles: RoleRecord[]): unknown {
  if (mapping.source === 'roles') return roles.map((r) => r.name);
  const [root, ...path] = mapping.source.split('.');
  if (root === 'app_metadata') return valueAt(user.app_metadata, path);
  if (root === 'user_metadata') return valueAt(user.user_metadata, path);
  return undefined;
}

function addCustom(target: Record<string, unknown>, claims: Record<string, unknown> | undefined): void {
  for (const [name, value] of Object.entries(claims ?? {})) {
    if (RESERVED_CLAIMS.has(name) || value === undefined) continue;
    target[name] = value;
  }
}

function postLoginEvent(ctx: TenantContext, p: ClaimsInput, roles: RoleRecord[], requestedScopes: string[]): PostLoginEvent {
  const u = p.user;
  return {
    tenant: { id: ctx.tenant },
    user: {
      user_id: u.user_id,
      email: u.email,
      email_verified: u.email_verified,
      username: u.username,
      name: u.name,
      nickname: u.nickname,
      given_name: u.given_name,
      family_name: u.family_name,
      picture: u.picture,
      app_metadata: u.app_metadata ?? {},
      user_metadata: u.user_metadata ?? {},
      identities: u.identities,
      created_at: u.created_at,
      updated_at: u.updated_at,
      last_login: u.last_login,
      logins_count: u.logins_count,
    },
    client: { client_id: p.client.client_id, name: p.client.name },
    connection: { id: u.connection_id, name: u.connection, strategy: ctx.config.connections.get(u.connection_id)?.strategy ?? 'auth0' },
    authorization: { roles: roles.map((r) => r.name) },
    request: { ip: ctx.ip, hostname: ctx.host, user_agent: ctx.userAgent },
    ...(p.audience ? { resource_server: { identifier: p.audience } } : {}),
    transaction: { requested_scopes: requestedScopes, protocol: p.grantType },
    stats: { logins_count: u.logins_count },
  };
}

export interface ClaimsInput {
  client: ClientRecord;
  user: UserRecord;
  scope: string;
  audience?: string;
  grantType: string;
}

/** What assembling a token's claims uses. */
export type TokenClaimsDeps = Pick<Deps, 'now' | 'sink' | 'postLogin' | 'roleMembers'>;

function needsRoles(ctx: TenantContext, api: ResourceServerRecord | undefined, deps: TokenClaimsDeps): boolean {
  return (
    !!api?.enforce_policies ||
    api?.token_dialect === 'access_token_authz' ||
    !!deps.postLogin ||
    ctx.config.claimMappings.some((m) => m.source === 'roles')
  );
}

/**
 * Everything a user token carries beyond the standard claims, assembled the same way for every
 * issuance (password and code logins, refresh, re-mint): RBAC on the API (`enforce_policies`
 * narrows the scope, `access_token_authz` adds `permissions`), the tenant's declarative claim
 * mappings, then the post-login extension, which may also deny. The user's roles are read (one
 * Query) only when something uses them.
 */
export async function assembleTokenClaims(deps: TokenClaimsDeps, ctx: TenantContext, p: ClaimsInput): Promise<TokenClaims> {
  const api = p.audience ? ctx.config.resourceServers.get(p.audience) : undefined;
  const requested = p.scope.split(' ').filter(Boolean);
  const roles = needsRoles(ctx, api, deps) ? existingRoles(ctx.config, await deps.roleMembers.roleIdsOf(p.user)) : [];
  const accessClaims: Record<string, unknown> = {};
  const idClaims: Record<string, unknown> = {};

  let scope = p.scope;
  if (api && (api.enforce_policies || api.token_dialect === 'access_token_authz')) {
    const permissions = permissionsOfRoles(roles, api.identifier).map((x) => x.permission_name);
    if (api.enforce_policies) {
      const held = new Set(permissions);
      scope = requested.filter((s) => OIDC_SCOPES.has(s) || held.has(s)).join(' ');
    }
    if (api.token_dialect === 'access_token_authz') accessClaims.permissions = permissions;
  }

  for (const mapping of ctx.config.claimMappings) {
    const value = mappedValue(mapping, p.user, roles);
    if (value === undefined) continue;
    if (mapping.tokens.includes('access_token')) addCustom(accessClaims, { [mapping.claim]: value });
    if (mapping.tokens.includes('id_token')) addCustom(idClaims, { [mapping.claim]: value });
  }

  if (deps.postLogin) {
    const { extension, policy } = deps.postLogin;
    const started = deps.now();
    let result;
    try {
      result = await runPostLogin(extension, postLoginEvent(ctx, p, roles, requested), policy, (reason) =>
        deps.sink.warn('post_login_failed', { tenant: ctx.tenant, client_id: p.client.client_id, user_id: p.user.user_id, reason, failure_mode: policy.failureMode }),
      );
    } catch (err) {
      if (err instanceof PostLoginFailure) throw oauthErrors.accessDenied('The post-login extension failed.');
      throw err;
    }
    deps.sink.info('post_login', { tenant: ctx.tenant, duration_ms: deps.now() - started });
    if (result.deny) throw oauthErrors.accessDenied(result.deny.slice(0, 500));
    addCustom(accessClaims, result.access_token_claims);
    addCustom(idClaims, result.id_token_claims);
  }
  return { scope, accessClaims, idClaims };
}
