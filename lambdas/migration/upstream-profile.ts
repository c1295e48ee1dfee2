/**
 * Maps what the upstream Auth0 says about a user (a `/userinfo` answer or the claims of a
 * verified id_token) to the profile of the local user, for both migration paths (password
 * fallback and refresh re-mint), so a user migrated either way looks the same.
 */
import type { NewUserProfile } from '../identity/create-user.js';

/** Claims that describe the token, not the user: never copied into the profile. */
const TOKEN_CLAIMS = new Set([
  'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'azp', 'nonce', 'at_hash', 'c_hash', 's_hash',
  'auth_time', 'sid', 'acr', 'amr', 'cnf', 'scope', 'gty',
]);

/** Standard claims that have a field of their own on the local user. */
const STRING_FIELDS = ['name', 'nickname', 'given_name', 'family_name', 'picture', 'phone_number'] as const;

export interface UpstreamClaims {
  sub: string;
  [claim: string]: unknown;
}

/**
 * The local profile of an upstream user: `user_id` is the upstream `sub` (tokens minted here
 * keep the `sub` the client's data is keyed by), `email` lower-cased, the standard profile
 * claims in their fields, and every other user claim kept in `upstream_profile`.
 */
export function profileFromUpstream(claims: UpstreamClaims): NewUserProfile {
  const profile: NewUserProfile = { user_id: claims.sub };
  const email = nonEmptyString(claims.email);
  if (email !== undefined) profile.email = email.toLowerCase();
  const verified = booleanClaim(claims.email_verified);
  if (verified !== undefined) profile.email_verified = verified;
  for (const field of STRING_FIELDS) {
    const value = nonEmptyString(claims[field]);
    if (value !== undefined) profile[field] = value;
  }

  const mapped = new Set<string>(['sub', 'email', 'email_verified', ...STRING_FIELDS]);
  const rest: Record<string, unknown> = {};
  for (const [claim, value] of Object.entries(claims)) {
    if (mapped.has(claim) || TOKEN_CLAIMS.has(claim) || value === undefined) continue;
    rest[claim] = value;
  }
  if (Object.keys(rest).length > 0) profile.upstream_profile = rest;
  return profile;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Auth0 sends booleans; some upstream rules send "true"/"false" strings. */
function booleanClaim(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}
