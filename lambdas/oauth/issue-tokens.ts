import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { ClientRecord, UserRecord } from '../store/records.js';
import type { RefreshFamilyItem, RefreshTokenItem } from '../store/refresh-token-repository.js';
import { mintAccessToken, mintIdToken, type GrantTypeClaim } from '../tokens/mint.js';
import { formatRefreshToken, hashSecret, newId, newSecret } from '../tokens/refresh-token-format.js';
import { oauthErrors } from './errors.js';
import { assembleTokenClaims } from './token-claims.js';
import type { TokenClaimsDeps } from './token-claims.js';

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access', 'address', 'phone']);

import type { TokenResponse } from '../ports.js';

export type { TokenResponse } from '../ports.js';

/** An existing family to continue (rotation) instead of starting a new one. */
export interface FamilyToContinue {
  family_id: string;
  absolute_exp?: number;
}

/**
 * Resolves the audience of a user token: the requested one (must be an API of the tenant or
 * the tenant's userinfo), else the tenant's default audience, else none (userinfo only).
 */
export function resolveAudience(ctx: TenantContext, requested: string | undefined): string | undefined {
  const audience = requested || ctx.config.settings.default_audience || undefined;
  if (!audience) return undefined;
  if (audience === `${ctx.issuer}userinfo`) return undefined;
  if (!ctx.config.resourceServers.has(audience)) throw oauthErrors.accessDenied(`Service not found: ${audience}`);
  return audience;
}

/** The scopes granted to a user token: OIDC scopes plus the requested scopes the API defines. */
export function grantableScope(ctx: TenantContext, requested: string | undefined, audience: string | undefined): string {
  const api = audience ? ctx.config.resourceServers.get(audience) : undefined;
  const apiScopes = new Set(api?.scopes.map((s) => s.value) ?? []);
  const scopes = (requested ?? 'openid').split(/\s+/).filter(Boolean);
  // An API that does not allow offline access gets no refresh token (Auth0 drops the scope).
  const offline = api?.allow_offline_access !== false;
  return [...new Set(scopes.filter((s) => (OIDC_SCOPES.has(s) && (offline || s !== 'offline_access')) || apiScopes.has(s)))].join(' ');
}

/** The API's lifetime (its browser lifetime for SPAs), else the tenant's. */
function accessTokenLifetime(ctx: TenantContext, client: ClientRecord, audience: string | undefined): number {
  const api = audience ? ctx.config.resourceServers.get(audience) : undefined;
  const web = client.app_type === 'spa' ? api?.token_lifetime_for_web : undefined;
  return web || api?.token_lifetime || ctx.config.settings.access_token_lifetime;
}

/**
 * Mints the access token, the id token (with `openid`) and a refresh token (with
 * `offline_access`, when the client may use the refresh grant). Returns the response and the
 * items to write (refresh token, and the family when a new one starts); the caller writes them
 * with the request's log in one BatchWrite.
 */
/** What issuing a user's tokens uses. */
export type IssueTokensDeps = Pick<Deps, 'signingKeys' | 'refreshTokens'> & TokenClaimsDeps;

export async function issueUserTokens(
  deps: IssueTokensDeps,
  ctx: TenantContext,
  p: {
    client: ClientRecord;
    user: UserRecord;
    scope: string;
    audience?: string;
    grantType: GrantTypeClaim;
    family?: FamilyToContinue;
    nonce?: string;
    /** Of the login session (authorization code): the id token's `auth_time` and `sid`. */
    authTime?: number;
    sid?: string;
    migration?: string;
    /** A non-rotating refresh exchange returns no new refresh token. */
    skipRefreshToken?: boolean;
    /** Scope kept by the new refresh token when the access token's scope was narrowed. */
    refreshTokenScope?: string;
    /** Id of the new refresh token, when the caller already recorded it as a successor. */
    refreshTokenId?: string;
  },
): Promise<{ response: TokenResponse; items: Record<string, unknown>[]; familyId?: string; familyAbsoluteExp?: number }> {
  const nowSeconds = Math.floor(deps.now() / 1000);
  const key = await deps.signingKeys.current(ctx.tenant);
  const settings = ctx.config.settings;
  const claims = await assembleTokenClaims(deps, ctx, p);
  const scopes = claims.scope.split(' ');
  const lifetime = accessTokenLifetime(ctx, p.client, p.audience);
  // The two signatures are independent: signed side by side.
  const accessTokenSigned = mintAccessToken({
    extraClaims: claims.accessClaims,
    key,
    issuer: ctx.issuer,
    subject: p.user.user_id,
    audience: p.audience,
    clientId: p.client.client_id,
    scope: claims.scope,
    grantType: p.grantType,
    issuedAt: nowSeconds,
    lifetime,
  });
  const idTokenSigned = scopes.includes('openid')
    ? mintIdToken({
        key,
        issuer: ctx.issuer,
        user: p.user,
        clientId: p.client.client_id,
        scope: p.scope,
        issuedAt: nowSeconds,
        lifetime: settings.id_token_lifetime,
        nonce: p.nonce,
        extraClaims: claims.idClaims,
        authTime: p.authTime,
        sid: p.sid,
      })
    : undefined;
  const [accessToken, idToken] = await Promise.all([accessTokenSigned, idTokenSigned]);
  const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: lifetime, scope: claims.scope };
  if (idToken !== undefined) response.id_token = idToken;
  const items: Record<string, unknown>[] = [];
  let familyId: string | undefined;
  let familyAbsoluteExp: number | undefined;
  const refreshScope = p.refreshTokenScope ?? p.scope;
  if (!p.skipRefreshToken && refreshScope.split(' ').includes('offline_access') && p.client.grant_types.includes('refresh_token')) {
    const policy = p.client.refresh_token;
    const expiring = policy.expiration_type === 'expiring';
    familyId = p.family?.family_id ?? newId();
    const absoluteExp = p.family
      ? p.family.absolute_exp
      : expiring && !policy.infinite_token_lifetime
        ? nowSeconds + policy.token_lifetime
        : undefined;
    familyAbsoluteExp = absoluteExp;
    const idleExp = expiring && !policy.infinite_idle_token_lifetime ? nowSeconds + policy.idle_token_lifetime : undefined;
    // Expires with the first of its lifetimes; a token that may live indefinitely has no TTL.
    const lifetimes = [absoluteExp, idleExp].filter((t): t is number => t !== undefined);
    const ttl = lifetimes.length ? Math.min(...lifetimes) : undefined;
    const secret = newSecret();
    const token: RefreshTokenItem = {
      token_id: p.refreshTokenId ?? newId(),
      family_id: familyId,
      tenant: ctx.tenant,
      client_id: p.client.client_id,
      user_id: p.user.user_id,
      hash: hashSecret(secret),
      scope: refreshScope,
      audience: p.audience,
      status: 'active',
      created_at: nowSeconds,
      idle_exp: idleExp,
      ttl,
    };
    items.push(deps.refreshTokens.tokenItem(token));
    if (!p.family) {
      const family: RefreshFamilyItem = {
        family_id: familyId,
        tenant: ctx.tenant,
        client_id: p.client.client_id,
        user_id: p.user.user_id,
        status: 'active',
        absolute_exp: absoluteExp,
        created_at: nowSeconds,
        ttl: absoluteExp,
        migration: p.migration,
      };
      items.push(deps.refreshTokens.familyItem(family));
    }
    response.refresh_token = formatRefreshToken({
      familyId,
      tokenId: token.token_id,
      secret,
      userId: p.user.user_id,
    });
  }
  return { response, items, familyId, familyAbsoluteExp };
}
