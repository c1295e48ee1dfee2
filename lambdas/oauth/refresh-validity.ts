import type { UserRecord } from '../store/records.js';
import { isExpiredRecord, type RefreshFamilyItem, type RefreshTokenItem } from '../store/refresh-token-repository.js';
import { secretMatches, type ParsedRefreshToken } from '../tokens/refresh-token-format.js';

export type RefreshRefusal = 'unknown_refresh_token' | 'client_mismatch' | 'family_revoked' | 'expired' | 'idle_expired' | 'user_not_found' | 'user_blocked';

export type RefreshValidity =
  | { ok: true; token: RefreshTokenItem; family: RefreshFamilyItem; user: UserRecord }
  /** `userId`: whose token it is, once the token is known to be genuine (for the failure event). */
  | { ok: false; reason: RefreshRefusal; userId?: string };

/**
 * Whether a presented local refresh token may be exchanged, from what the exchange read: the
 * token must be genuine (secret, tenant, family and user it names), of this client, its family
 * active, within its absolute and idle lifetimes (and TTL, checked on read), its user present
 * and not blocked. The first failing rule is the reason. Using the token up is decided apart
 * (rotation and reuse: `consumeRotating`).
 */
export function refreshValidity(p: {
  parsed: ParsedRefreshToken;
  token?: RefreshTokenItem;
  family?: RefreshFamilyItem;
  user?: UserRecord;
  tenant: string;
  clientId: string;
  nowSeconds: number;
}): RefreshValidity {
  const { parsed, token, family, user, nowSeconds } = p;
  if (!token || !secretMatches(parsed.secret, token.hash) || token.tenant !== p.tenant) return { ok: false, reason: 'unknown_refresh_token' };
  const refuse = (reason: RefreshRefusal): RefreshValidity => ({ ok: false, reason, userId: token.user_id });
  if (token.family_id !== parsed.familyId || token.user_id !== parsed.userId || !family) return refuse('unknown_refresh_token');
  if (token.client_id !== p.clientId) return refuse('client_mismatch');
  if (family.status !== 'active') return refuse('family_revoked');
  if (family.absolute_exp !== undefined && family.absolute_exp <= nowSeconds) return refuse('expired');
  if (token.idle_exp !== undefined && token.idle_exp <= nowSeconds) return refuse('idle_expired');
  if (isExpiredRecord(family, nowSeconds) || isExpiredRecord(token, nowSeconds)) return refuse('expired');
  if (!user) return refuse('user_not_found');
  if (user.blocked) return refuse('user_blocked');
  return { ok: true, token, family, user };
}
