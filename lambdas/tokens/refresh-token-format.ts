import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * This service's refresh tokens: `r1.<family>.<token>.<secret>.<user>` (user id base64url).
 * Opaque to clients. Carrying the family and user lets the grant read the token, its family
 * and its user in one BatchGet. Only a SHA-256 of the secret is stored.
 */
export interface ParsedRefreshToken {
  familyId: string;
  tokenId: string;
  secret: string;
  userId: string;
}

const ID = /^[A-Za-z0-9_-]{16,40}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function newId(): string {
  return randomBytes(16).toString('base64url');
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function formatRefreshToken(t: ParsedRefreshToken): string {
  return `r1.${t.familyId}.${t.tokenId}.${t.secret}.${Buffer.from(t.userId, 'utf8').toString('base64url')}`;
}

/** Parses a token of this service; anything else (an upstream token, junk) gives undefined. */
export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  if (token.length > 600) return undefined;
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== 'r1') return undefined;
  const [, familyId, tokenId, secret, user] = parts;
  if (!ID.test(familyId) || !ID.test(tokenId) || !SECRET.test(secret) || !/^[A-Za-z0-9_-]{1,400}$/.test(user)) {
    return undefined;
  }
  const userId = Buffer.from(user, 'base64url').toString('utf8');
  if (!userId || Buffer.from(userId, 'utf8').toString('base64url') !== user) return undefined;
  return { familyId, tokenId, secret, userId };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
