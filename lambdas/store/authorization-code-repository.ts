import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuthorizationCodesStore, CreateOutcome } from '../ports.js';
import { isConditionalCheckFailed } from './dynamo-client.js';
import type { AuthorizationCodeItem, RedeemOutcome } from './login-records.js';

/** Codes are stored only as SHA-256 hashes (base64url). */
export function hashAuthorizationCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}

/** Key of an authorization code: only a SHA-256 of the code is ever stored. */
export const authorizationCodeKey = (tenant: string, codeHash: string) => ({
  pk: `TENANT#${tenant}#AUTHCODE#${codeHash}`,
  sk: 'AUTHCODE',
});

/**
 * One-time authorization codes. Redemption is one conditional update (`issued` → `redeemed`),
 * so of two concurrent exchanges exactly one wins. A replay marks the code; whichever of the
 * replay mark and the family record lands second sees the other and revokes the family, so a
 * replay racing the first exchange still revokes what it issued.
 */
export function createAuthorizationCodeRepository(db: DynamoDBDocumentClient, tableName: string): AuthorizationCodesStore {
  return {
    async put(codeHash: string, item: AuthorizationCodeItem): Promise<CreateOutcome> {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...authorizationCodeKey(item.tenant, codeHash), ...item },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return { ok: true };
      } catch (err) {
        if (isConditionalCheckFailed(err)) return { ok: false, reason: 'conflict' };
        throw err;
      }
    },

    async get(tenant: string, codeHash: string): Promise<AuthorizationCodeItem | undefined> {
      const res = await db.send(
        new GetCommand({ TableName: tableName, Key: authorizationCodeKey(tenant, codeHash), ConsistentRead: true }),
      );
      if (!res.Item) return undefined;
      const { pk: _pk, sk: _sk, ...item } = res.Item;
      return item as AuthorizationCodeItem;
    },

    async redeem(tenant: string, codeHash: string, nowSeconds: number): Promise<RedeemOutcome> {
      try {
        const res = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: authorizationCodeKey(tenant, codeHash),
            UpdateExpression: 'SET #status = :redeemed, redeemed_at = :now',
            ConditionExpression: 'attribute_exists(pk) AND #status = :issued',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':redeemed': 'redeemed', ':issued': 'issued', ':now': nowSeconds },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const { pk: _pk, sk: _sk, ...code } = res.Attributes ?? {};
        return { outcome: 'redeemed', code: code as AuthorizationCodeItem };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        return (await this.get(tenant, codeHash)) ? { outcome: 'already_redeemed' } : { outcome: 'missing' };
      }
    },

    /** Records the family a redemption started; true when a replay was seen meanwhile. */
    async recordFamily(tenant: string, codeHash: string, familyId: string): Promise<boolean> {
      const res = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: authorizationCodeKey(tenant, codeHash),
          UpdateExpression: 'SET family_id = :f',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':f': familyId },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return res.Attributes?.replayed_at !== undefined;
    },

    /** Marks a replay; returns the family the first redemption started, if recorded yet. */
    async markReplayed(tenant: string, codeHash: string, nowSeconds: number): Promise<string | undefined> {
      try {
        const res = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: authorizationCodeKey(tenant, codeHash),
            UpdateExpression: 'SET replayed_at = if_not_exists(replayed_at, :now)',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':now': nowSeconds },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return res.Attributes?.family_id as string | undefined;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return undefined;
        throw err;
      }
    },
  };
}

export type AuthorizationCodeRepository = AuthorizationCodesStore;
