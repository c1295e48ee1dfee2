import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import { bucketLevelOf, windowFailuresOf } from './lockout-repository.js';
import type { IdentifierClaim, UserWithPassword } from './records.js';
import { userWithPasswordOf } from './users-repository.js';
import type { LoginReads } from '../ports.js';

export type { IdentifierClaim } from './records.js';


/**
 * The reads of a password check, each one BatchGet over the items it needs (claims, lockout
 * counters and the user live in different partitions):
 * 1. the identifier's claim with the client IP's failure bucket (suspicious-IP throttling);
 * 2. the user (item, password, login statistics) with the identifier-wide failure ceiling.
 */
export function createLoginReads(db: DynamoDBDocumentClient, tableName: string): LoginReads {
  return {
    /** The claim of a login identifier and, when throttled, the failures its client IP has in its bucket. */
    async identifierAndIp(claimKey: ItemKey, ip: { key: ItemKey; rateMs: number; nowMs: number } | undefined): Promise<{ claim?: IdentifierClaim; ipFailures: number }> {
      const found = await batchGetItems(db, tableName, ip ? [claimKey, ip.key] : [claimKey]);
      const claimItem = found.get(`${claimKey.pk}|${claimKey.sk}`);
      return {
        claim: claimItem ? { user_id: String(claimItem.user_id), retired: claimItem.retired === true } : undefined,
        ipFailures: ip ? bucketLevelOf(found.get(`${ip.key.pk}|${ip.key.sk}`), ip.rateMs, ip.nowMs) : 0,
      };
    },

    /** A user with its password and last login IP, and the failures on the identifier-wide ceiling (strongly consistent). */
    async userAndCeiling(tenant: string, userId: string, ceiling: { key: ItemKey; nowSeconds: number } | undefined): Promise<{ holder: UserWithPassword; ceilingFailures: number }> {
      const userKeys = [keys.user(tenant, userId), keys.password(tenant, userId), keys.userLogins(tenant, userId)];
      const found = await batchGetItems(db, tableName, ceiling ? [...userKeys, ceiling.key] : userKeys, { consistent: true });
      const item = (k: ItemKey) => found.get(`${k.pk}|${k.sk}`);
      return {
        holder: userWithPasswordOf(userKeys.map(item).filter((i): i is Record<string, unknown> => !!i)),
        ceilingFailures: ceiling ? windowFailuresOf(item(ceiling.key), ceiling.nowSeconds) : 0,
      };
    },
  };
}

export type { LoginReads };
