import { importPKCS8, SignJWT } from 'jose';
import { APPLE_ISSUER } from './social-strategies.js';
import { ProviderError } from './provider-metadata.js';

/** Apple accepts client secrets of at most six months; ours live five minutes, one per code exchange. */
const CLIENT_SECRET_SECONDS = 300;

/**
 * Apple's client secret: an ES256 JWT signed with the team's Sign in with Apple key (the .p8
 * PEM, `app_secret` in Auth0's options), minted for each code exchange. `iss` is the team id,
 * `sub` the Services ID (`client_id`), `aud` always Apple's issuer, `kid` the key id.
 */
export async function appleClientSecret(p: { teamId: string; clientId: string; keyId: string; privateKeyPem: string; now: number }): Promise<string> {
  let key: CryptoKey;
  try {
    key = (await importPKCS8(p.privateKeyPem, 'ES256')) as CryptoKey;
  } catch {
    throw new ProviderError('connection_apple_key_unreadable');
  }
  const iat = Math.floor(p.now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: p.keyId })
    .setIssuer(p.teamId)
    .setSubject(p.clientId)
    .setAudience(APPLE_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + CLIENT_SECRET_SECONDS)
    .sign(key);
}

/** Whether a PEM is a private key Apple's client secret can be signed with (checked when the connection is written). */
export async function isAppleSigningKey(pem: string): Promise<boolean> {
  try {
    await importPKCS8(pem, 'ES256');
    return true;
  } catch {
    return false;
  }
}

/**
 * The name Apple posts (as JSON in the `user` field) on the first authorization only:
 * `{"name":{"firstName":"…","lastName":"…"},"email":"…"}`. Never trusted for the email.
 */
export function appleUserName(raw: string | undefined): { given_name?: string; family_name?: string } {
  if (!raw || raw.length > 4096) return {};
  try {
    const name = (JSON.parse(raw) as { name?: { firstName?: unknown; lastName?: unknown } })?.name;
    const s = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 256) : undefined);
    return { given_name: s(name?.firstName), family_name: s(name?.lastName) };
  } catch {
    return {};
  }
}
