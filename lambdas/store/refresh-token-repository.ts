import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, isConditionalCheckFailed } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import type { ConsumeOutcome, RefreshFamilyItem, RefreshTokenItem, UserRecord } from './records.js';
import type { RefreshTokenStore } from '../ports.js';

export type { ConsumeOutcome, RefreshFamilyItem, RefreshTokenItem } from './records.js';



/** How long used-up records (rotated tokens, revoked families) are kept when nothing expires them sooner. */
const ROTATED_TOKEN_RETENTION_SECONDS = 400 * 86400;

/** Whether a token or family record is past its TTL (DynamoDB deletes expired items only eventually). */
export function isExpiredRecord(item: { ttl?: number }, nowSeconds: number): boolean {
  return item.ttl !== undefined && item.ttl <= nowSeconds;
}


/**
 * Refresh tokens and their families. Issuing writes both items in the request's final
 * BatchWrite (see the request log); reading happens in one BatchGet together with the user.
 */
/** Reads several items in one BatchGet; `item(key)` answers each one's item or undefined. */
async function readTogether(db: DynamoDBDocumentClient, tableName: string, itemKeys: ItemKey[]) {
  const found = await batchGetItems(db, tableName, itemKeys);
  return <T>(key: ItemKey | undefined): T | undefined => (key ? (found.get(`${key.pk}|${key.sk}`) as T | undefined) : undefined);
}

function userOf(item: Record<string, unknown> | undefined): UserRecord | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...user } = item;
  return user as unknown as UserRecord;
}

export function createRefreshTokenRepository(db: DynamoDBDocumentClient, tableName: string): RefreshTokenStore {
  return {
    /** What a refresh exchange decides on, in one BatchGet: the token, its family and its user. */
    async readExchange(tenant: string, p: { tokenId: string; familyId: string; userId: string }) {
      const tokenKey = keys.refreshToken(p.tokenId);
      const familyKey = keys.refreshFamily(p.familyId);
      const userKey = keys.user(tenant, p.userId);
      const item = await readTogether(db, tableName, [tokenKey, familyKey, userKey]);
      return {
        token: item<RefreshTokenItem>(tokenKey),
        family: item<RefreshFamilyItem>(familyKey),
        user: userOf(item<Record<string, unknown>>(userKey)),
      };
    },

    /**
     * What a re-mint replay decides on, in one BatchGet: the user, the family the re-mint
     * started and the refresh token it minted (when recorded).
     */
    async readRemint(tenant: string, p: { userId: string; familyId?: string; tokenId?: string }) {
      const userKey = keys.user(tenant, p.userId);
      const familyKey = p.familyId ? keys.refreshFamily(p.familyId) : undefined;
      const tokenKey = p.tokenId ? keys.refreshToken(p.tokenId) : undefined;
      const item = await readTogether(db, tableName, [userKey, ...(familyKey ? [familyKey] : []), ...(tokenKey ? [tokenKey] : [])]);
      return {
        user: userOf(item<Record<string, unknown>>(userKey)),
        family: item<RefreshFamilyItem>(familyKey),
        minted: item<RefreshTokenItem>(tokenKey),
      };
    },

    /** A refresh token's record. */
    async getToken(tokenId: string): Promise<RefreshTokenItem | undefined> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keys.refreshToken(tokenId) }));
      return res.Item as RefreshTokenItem | undefined;
    },

    tokenItem: (t: RefreshTokenItem) => ({ ...keys.refreshToken(t.token_id), ...t }),
    familyItem: (f: RefreshFamilyItem) => ({ ...keys.refreshFamily(f.family_id), ...f }),

    /**
     * Marks a rotating token as used, atomically. A token that is still active is consumed;
     * a token rotated no longer ago than `leeway` seconds may be consumed again (concurrent
     * tabs: the family forks), but only while it is the previous token, i.e. while the token
     * it was first rotated into (`successorId`, recorded by the first consumption) is unused.
     * Anything else is reuse. Only a reuse within the leeway costs a second read.
     */
    async consumeRotating(tokenId: string, nowSeconds: number, leeway: number, successorId?: string): Promise<ConsumeOutcome> {
      let previous: Record<string, unknown> | undefined;
      try {
        const res = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.refreshToken(tokenId),
            // A rotated token is kept (for reuse detection) at most as long as an indefinite one's record.
            UpdateExpression: `SET #status = :rotated, rotated_at = if_not_exists(rotated_at, :now), #ttl = if_not_exists(#ttl, :keepUntil)${
              successorId ? ', successor_id = if_not_exists(successor_id, :successor)' : ''
            } ADD uses :one`,
            ConditionExpression:
              'attribute_exists(pk) AND (#status = :active OR (#status = :rotated AND rotated_at >= :cutoff))',
            ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':rotated': 'rotated',
              ':active': 'active',
              ':now': nowSeconds,
              ':keepUntil': nowSeconds + ROTATED_TOKEN_RETENTION_SECONDS,
              ':cutoff': leeway > 0 ? nowSeconds - leeway : nowSeconds + 1,
              ':one': 1,
              ...(successorId ? { ':successor': successorId } : {}),
            },
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        previous = res.Attributes;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return 'reuse_detected';
        throw err;
      }
      if (previous?.status !== 'rotated') return 'consumed';
      const successor = typeof previous.successor_id === 'string' ? previous.successor_id : undefined;
      if (successor) {
        const next = await db.send(
          new GetCommand({ TableName: tableName, Key: keys.refreshToken(successor), ConsistentRead: true, ProjectionExpression: '#status', ExpressionAttributeNames: { '#status': 'status' } }),
        );
        if (next.Item?.status === 'rotated') return 'reuse_detected';
      }
      return 'reused_within_leeway';
    },

    /**
     * Undoes `consumeRotating` when the successor could not be written: the client never got
     * it, so its retry with the same token must not look like reuse.
     */
    async restoreAfterFailedRotation(tokenId: string, successorId: string) {
      await db
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.refreshToken(tokenId),
            UpdateExpression: 'SET #status = :active REMOVE rotated_at, successor_id, uses',
            // Only when no other exchange used the token since (within leeway): then it stays used.
            ConditionExpression: 'successor_id = :successor AND uses = :one',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':active': 'active', ':successor': successorId, ':one': 1 },
          }),
        )
        .catch((err) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
    },

    /** Renews the idle expiry of a non-rotating token. */
    async touch(tokenId: string, idleExp: number | undefined, ttl: number) {
      if (idleExp === undefined) return;
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.refreshToken(tokenId),
          UpdateExpression: 'SET idle_exp = :idle, #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':idle': idleExp, ':ttl': ttl },
        }),
      );
    },

    /** One update revokes every token of the family. */
    async revokeFamily(familyId: string, nowSeconds: number, reason: string) {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.refreshFamily(familyId),
          UpdateExpression:
            'SET #status = :revoked, revoked_at = :now, revoked_reason = :reason, #ttl = if_not_exists(#ttl, :keepUntil)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':revoked': 'revoked',
            ':now': nowSeconds,
            ':reason': reason,
            ':keepUntil': nowSeconds + ROTATED_TOKEN_RETENTION_SECONDS,
          },
        }),
      ).catch((err) => {
        if (!isConditionalCheckFailed(err)) throw err;
      });
    },
  };
}

export type RefreshTokenRepository = RefreshTokenStore;
