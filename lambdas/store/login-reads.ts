import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import { bucketLevelOf, windowFailuresOf } from './lockout-repository.js';
import type { IdentifierClaim, UserWithPassword } from './records.js';
import { userWithPasswordOf } from './users-repository.js';
import type { LoginReads, UserAndCeilingRead } from '../ports.js';

export type { IdentifierClaim } from './records.js';

/** How many identifier → user_id hints a process keeps (the oldest are dropped first). */
const HOLDER_HINTS = 10_000;
/**
 * How long a process trusts an IP's failures it read (for suspicious-IP throttling): an IP it
 * read at its limit is refused without a read meanwhile. Its bucket only fills up in that time
 * unless an operator clears it, which takes effect within this long, as configuration does.
 */
const IP_LEVEL_MS = 5_000;
const IP_LEVELS = 10_000;

/**
 * The reads of a password check, each one BatchGet over the items it needs (claims, lockout
 * counters and the user live in different partitions):
 * 1. the identifier's claim with the client IP's failure bucket (suspicious-IP throttling);
 * 2. the user (item, password, login statistics) with the identifier-wide failure ceiling.
 *
 * The second read depends on the first (the claim names the user). The process remembers which
 * user an identifier's claim last named; when it knows one, the first read fetches that user's
 * items too, and they are used only if the claim read with them still names that user (a hint,
 * never trusted: a claim changes hands only through release or retire, and a hint that no longer
 * matches is dropped and the user read again). A repeat login then costs one read, not two.
 */
export function createLoginReads(db: DynamoDBDocumentClient, tableName: string): LoginReads {
  const holderHints = new Map<string, string>();
  const ipLevels = new Map<string, { failures: number; atMs: number }>();
  const rememberIp = (id: string, failures: number, atMs: number) => {
    ipLevels.delete(id);
    if (failures <= 0) return;
    ipLevels.set(id, { failures, atMs });
    if (ipLevels.size > IP_LEVELS) ipLevels.delete(ipLevels.keys().next().value as string);
  };
  const remember = (claimId: string, claim: IdentifierClaim | undefined) => {
    holderHints.delete(claimId);
    if (!claim || claim.retired) return;
    holderHints.set(claimId, claim.user_id);
    if (holderHints.size > HOLDER_HINTS) holderHints.delete(holderHints.keys().next().value as string);
  };
  const userKeysOf = (tenant: string, userId: string) => [keys.user(tenant, userId), keys.password(tenant, userId), keys.userLogins(tenant, userId)];
  const userAndCeilingOf = (found: Map<string, Record<string, unknown>>, userKeys: ItemKey[], ceiling: { key: ItemKey; nowSeconds: number } | undefined): UserAndCeilingRead => {
    const item = (k: ItemKey) => found.get(`${k.pk}|${k.sk}`);
    return {
      holder: userWithPasswordOf(userKeys.map(item).filter((i): i is Record<string, unknown> => !!i)),
      ceilingFailures: ceiling ? windowFailuresOf(item(ceiling.key), ceiling.nowSeconds) : 0,
    };
  };

  return {
    /**
     * The claim of a login identifier and, when throttled, the failures its client IP has in its
     * bucket; with `holder`, also the user the claim names (see above) when this process knows it.
     */
    async identifierAndIp(claimKey, ip, holder) {
      const claimId = `${claimKey.pk}|${claimKey.sk}`;
      const hinted = holder ? holderHints.get(claimId) : undefined;
      const ceiling = hinted !== undefined ? holder!.ceiling(hinted) : undefined;
      const userKeys = hinted !== undefined ? userKeysOf(holder!.tenant, hinted) : [];
      const readKeys = [claimKey, ...(ip ? [ip.key] : []), ...userKeys, ...(ceiling ? [ceiling.key] : [])];
      // The user's items are read strongly consistent (as userAndCeiling does); so is the claim with them.
      const found = await batchGetItems(db, tableName, readKeys, hinted !== undefined ? { consistent: true } : {});
      const claimItem = found.get(claimId);
      const claim = claimItem ? { user_id: String(claimItem.user_id), retired: claimItem.retired === true } : undefined;
      remember(claimId, claim);
      const matches = hinted !== undefined && !!claim && !claim.retired && claim.user_id === hinted;
      const ipFailures = ip ? bucketLevelOf(found.get(`${ip.key.pk}|${ip.key.sk}`), ip.rateMs, ip.nowMs) : 0;
      if (ip) rememberIp(`${ip.key.pk}|${ip.key.sk}`, ipFailures, ip.nowMs);
      return {
        claim,
        ipFailures,
        ...(matches ? { holderRead: userAndCeilingOf(found, userKeys, ceiling) } : {}),
      };
    },

    ipKnownBlocked({ key, rateMs, nowMs, maxAttempts }) {
      const seen = ipLevels.get(`${key.pk}|${key.sk}`);
      if (!seen || nowMs - seen.atMs > IP_LEVEL_MS || nowMs < seen.atMs) return false;
      // One attempt is given back per whole `rateMs` (the bucket's leak).
      return seen.failures - Math.floor((nowMs - seen.atMs) / rateMs) >= maxAttempts;
    },

    /** A user with its password and last login IP, and the failures on the identifier-wide ceiling (strongly consistent). */
    async userAndCeiling(tenant, userId, ceiling) {
      const userKeys = userKeysOf(tenant, userId);
      const found = await batchGetItems(db, tableName, ceiling ? [...userKeys, ceiling.key] : userKeys, { consistent: true });
      return userAndCeilingOf(found, userKeys, ceiling);
    },
  };
}

export type { LoginReads };
