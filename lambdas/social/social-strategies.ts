import type { ConnectionRecord } from '../store/records.js';

/** The social and enterprise strategies this service signs users in with (Auth0's names). */
export const SOCIAL_STRATEGIES = ['google-oauth2', 'apple', 'github', 'windowslive', 'oidc'] as const;
export type SocialStrategy = (typeof SOCIAL_STRATEGIES)[number];

export function isSocialStrategy(strategy: unknown): strategy is SocialStrategy {
  return (SOCIAL_STRATEGIES as readonly unknown[]).includes(strategy);
}

export function isSocialConnection(connection: ConnectionRecord): boolean {
  return isSocialStrategy(connection.strategy);
}

/** Google's issuer: every Google connection is an OIDC connection with this fixed issuer. */
export const GOOGLE_ISSUER = 'https://accounts.google.com';
const DISCOVERY_SUFFIX = '/.well-known/openid-configuration';

/** Auth0 counts Google (and the other consumer providers) as social, enterprise OIDC not. */
export function isSocialIdentity(strategy: string): boolean {
  return strategy !== 'oidc';
}

/**
 * The `user_id` Auth0 gave this provider account, so apps keep keying their data by it:
 * `google-oauth2|<sub>`, and `oidc|<connection>|<sub>` for a generic OIDC connection.
 */
export function socialUserId(connection: ConnectionRecord, sub: string): string {
  return connection.strategy === 'oidc' ? `oidc|${connection.name}|${sub}` : `${connection.strategy}|${sub}`;
}

/** Apple's issuer, and Microsoft's consumer-account tenant (personal accounts carry this `tid`). */
export const APPLE_ISSUER = 'https://appleid.apple.com';
export const MICROSOFT_LOGIN = 'https://login.microsoftonline.com';
export const MICROSOFT_CONSUMERS_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

/**
 * The provider's own base URL, replaced only by a loopback `provider_base_url` that the
 * connection may carry when the service runs locally (tests), as Google's `discovery_url`.
 */
export function providerBase(connection: ConnectionRecord, real: string): string {
  const o = connection.options as { provider_base_url?: string };
  return o.provider_base_url ? o.provider_base_url.replace(/\/$/, '') : real;
}

/** The Microsoft tenant a `windowslive` connection signs in with: `common` unless set. */
export function microsoftTenant(connection: ConnectionRecord): string {
  return String((connection.options as { tenant?: string }).tenant ?? 'common');
}

/** Where the provider's metadata is read, and the issuer its id_tokens must carry (`{tenantid}` for Microsoft's multi-tenant ones). */
export function providerEndpoints(connection: ConnectionRecord): { discoveryUrl: string; issuer?: string } {
  const o = connection.options as { discovery_url?: string; issuer?: string };
  if (connection.strategy === 'google-oauth2') {
    // Tests (and only local runs, checked when the connection is written) point Google at a local provider.
    if (o.discovery_url) return { discoveryUrl: o.discovery_url, issuer: o.issuer };
    return { discoveryUrl: `${GOOGLE_ISSUER}${DISCOVERY_SUFFIX}`, issuer: GOOGLE_ISSUER };
  }
  if (connection.strategy === 'apple') {
    const base = providerBase(connection, APPLE_ISSUER);
    return { discoveryUrl: `${base}${DISCOVERY_SUFFIX}`, issuer: base };
  }
  if (connection.strategy === 'windowslive') {
    return { discoveryUrl: `${providerBase(connection, MICROSOFT_LOGIN)}/${encodeURIComponent(microsoftTenant(connection))}/v2.0${DISCOVERY_SUFFIX}` };
  }
  const discoveryUrl = o.discovery_url ?? `${(o.issuer ?? '').replace(/\/$/, '')}${DISCOVERY_SUFFIX}`;
  return { discoveryUrl, issuer: o.issuer };
}

const DEFAULT_SCOPES: Record<string, string> = {
  'google-oauth2': 'email profile',
  github: 'read:user user:email',
  // Graph's /me (the account id Auth0 keys Microsoft users by) needs User.Read.
  windowslive: 'openid profile email User.Read',
};

/** The scopes asked of the provider: `openid` always, then the connection's (Auth0 accepts a string or a list). */
export function providerScope(connection: ConnectionRecord): string {
  const o = connection.options as { scope?: string | string[]; name?: boolean; email?: boolean };
  // Apple: Auth0's `name` and `email` switches say which of the two is asked (both unless switched off).
  const appleDefault = connection.strategy === 'apple' ? [o.name !== false ? 'name' : '', o.email !== false ? 'email' : ''].join(' ').trim() : undefined;
  const raw = o.scope ?? appleDefault;
  const asked = Array.isArray(raw) ? raw : (raw ?? DEFAULT_SCOPES[connection.strategy] ?? 'openid profile email').split(/\s+/);
  // Apple and GitHub know no `openid` scope; the OIDC providers always get it.
  const base = connection.strategy === 'apple' || connection.strategy === 'github' ? [] : ['openid'];
  return [...new Set([...base, ...asked.filter(Boolean)])].join(' ');
}

/**
 * The social connection a user id of Auth0 belongs to (`google-oauth2|…` → the tenant's Google
 * connection, `oidc|acme|…` → the OIDC connection `acme`), so users that arrive by another path
 * (a re-minted refresh token) are attributed to their provider's connection.
 */
export function socialConnectionOfUserId(
  connections: Iterable<ConnectionRecord>,
  userId: string,
): ConnectionRecord | undefined {
  const [strategy, second] = userId.split('|');
  if (!isSocialStrategy(strategy)) return undefined;
  const candidates = [...connections].filter((c) => c.strategy === strategy);
  if (strategy === 'oidc') return candidates.find((c) => c.name === second);
  return candidates.find((c) => c.name === strategy) ?? candidates.sort((a, b) => a.name.localeCompare(b.name))[0];
}
