import type { ConnectionRecord } from '../store/records.js';

/** The social and enterprise strategies this service signs users in with (Auth0's names). */
export const SOCIAL_STRATEGIES = ['google-oauth2', 'oidc'] as const;
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

/** Where the provider's metadata is read, and the issuer its id_tokens must carry. */
export function providerEndpoints(connection: ConnectionRecord): { discoveryUrl: string; issuer?: string } {
  const o = connection.options as { discovery_url?: string; issuer?: string };
  if (connection.strategy === 'google-oauth2') {
    // Tests (and only local runs, checked when the connection is written) point Google at a local provider.
    if (o.discovery_url) return { discoveryUrl: o.discovery_url, issuer: o.issuer };
    return { discoveryUrl: `${GOOGLE_ISSUER}${DISCOVERY_SUFFIX}`, issuer: GOOGLE_ISSUER };
  }
  const discoveryUrl = o.discovery_url ?? `${(o.issuer ?? '').replace(/\/$/, '')}${DISCOVERY_SUFFIX}`;
  return { discoveryUrl, issuer: o.issuer };
}

/** The scopes asked of the provider: `openid` always, then the connection's (Auth0 accepts a string or a list). */
export function providerScope(connection: ConnectionRecord): string {
  const raw = (connection.options as { scope?: string | string[] }).scope;
  const asked = Array.isArray(raw) ? raw : (raw ?? (connection.strategy === 'google-oauth2' ? 'email profile' : 'openid profile email')).split(/\s+/);
  return [...new Set(['openid', ...asked.filter(Boolean)])].join(' ');
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
