import { SignJWT } from 'jose';
import { displayNames } from '../identity/display-names.js';
import type { UserRecord } from '../store/records.js';
import type { SigningKey } from './signing-keys.js';

export type GrantTypeClaim = 'password' | 'refresh_token' | 'client-credentials' | 'authorization_code';

async function sign(key: SigningKey, claims: Record<string, unknown>, issuedAt: number, lifetime: number) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + lifetime)
    .sign(key.privateKey);
}

/** An access token as Auth0 mints it: `aud` is an array with the userinfo URL when `openid` was asked. */
export function mintAccessToken(p: {
  key: SigningKey;
  issuer: string;
  subject: string;
  audience?: string;
  clientId: string;
  scope: string;
  grantType: GrantTypeClaim;
  issuedAt: number;
  lifetime: number;
  /** Custom and RBAC claims (`permissions`, namespaced claims); the standard claims always win. */
  extraClaims?: Record<string, unknown>;
}): Promise<string> {
  const scopes = p.scope.split(' ').filter(Boolean);
  const userinfo = `${p.issuer}userinfo`;
  const aud: string[] = [];
  if (p.audience) aud.push(p.audience);
  if (scopes.includes('openid') || aud.length === 0) aud.push(userinfo);
  return sign(
    p.key,
    {
      ...p.extraClaims,
      iss: p.issuer,
      sub: p.subject,
      aud: aud.length === 1 ? aud[0] : aud,
      azp: p.clientId,
      scope: p.scope,
      gty: p.grantType,
    },
    p.issuedAt,
    p.lifetime,
  );
}

/** The profile claims of a user that the granted scopes allow (OIDC standard claims). */
export function profileClaims(user: UserRecord, scope: string): Record<string, unknown> {
  const scopes = new Set(scope.split(' '));
  const claims: Record<string, unknown> = {};
  if (scopes.has('profile')) {
    Object.assign(claims, {
      ...displayNames(user),
      picture: user.picture,
      given_name: user.given_name,
      family_name: user.family_name,
      updated_at: user.updated_at,
    });
  }
  if (scopes.has('email') && user.email) {
    Object.assign(claims, { email: user.email, email_verified: user.email_verified ?? false });
  }
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  return claims;
}

export function mintIdToken(p: {
  key: SigningKey;
  issuer: string;
  user: UserRecord;
  clientId: string;
  scope: string;
  issuedAt: number;
  lifetime: number;
  nonce?: string;
  authTime?: number;
  sid?: string;
  /** Custom claims; the standard and profile claims always win. */
  extraClaims?: Record<string, unknown>;
}): Promise<string> {
  return sign(
    p.key,
    {
      ...p.extraClaims,
      iss: p.issuer,
      sub: p.user.user_id,
      aud: p.clientId,
      ...profileClaims(p.user, p.scope),
      ...(p.nonce ? { nonce: p.nonce } : {}),
      ...(p.authTime ? { auth_time: p.authTime } : {}),
      ...(p.sid ? { sid: p.sid } : {}),
    },
    p.issuedAt,
    p.lifetime,
  );
}
