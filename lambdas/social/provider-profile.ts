import type { JWTPayload } from 'jose';
import type { NewUserProfile } from '../identity/create-user.js';

const str = (v: unknown, max = 512) => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined);

/**
 * Auth0's normalized profile from the provider's claims. The email is kept exactly as verified
 * as the provider says: anything but `true` (Google once sent the string "true") is unverified.
 */
export function normalizedProfile(claims: JWTPayload): NewUserProfile {
  const email = str(claims.email, 320);
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  const extra: Record<string, unknown> = {};
  for (const k of ['locale', 'hd', 'preferred_username'] as const) if (str(claims[k])) extra[k] = str(claims[k]);
  return {
    email,
    email_verified: email ? verified : undefined,
    name: str(claims.name) ?? email,
    given_name: str(claims.given_name),
    family_name: str(claims.family_name),
    nickname: str(claims.nickname) ?? email?.split('@')[0],
    picture: str(claims.picture, 2048),
    ...(Object.keys(extra).length ? { upstream_profile: extra } : {}),
  };
}
