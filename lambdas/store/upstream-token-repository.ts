import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import { keys } from './keys.js';
import type { Lease, UpstreamTokenRecord } from './flow-records.js';
import type { UpstreamTokensStore } from '../ports.js';

export type { Lease, UpstreamTokenRecord } from './flow-records.js';

/** What a record says beyond its status and lease: a take-over starts without any of it. */
const OUTCOME_FIELDS = [
  'source_id', 'sealed_answer', 'client_id', 'user_id', 'family_id', 'refresh_token_id', 'family_absolute_exp',
  'scope', 'refresh_scope', 'audience', 'minted_at', 'rejected_by', 'failure', 'retry_at',
] as const satisfies readonly (keyof UpstreamTokenRecord)[];

export function createUpstreamTokenRepository(db: DynamoDBDocumentClient, tableName: string): UpstreamTokensStore {
  const keyOf = (tenant: string, hash: string) => keys.upstreamTokenConsumed(tenant, hash);
  const strip = (item: Record<string, unknown> | undefined): UpstreamTokenRecord | undefined => {
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, ...rest } = item;
    return rest as unknown as UpstreamTokenRecord;
  };

  return {
    item: (r: UpstreamTokenRecord) => ({ ...keyOf(r.tenant, r.token_hash), ...r }),

    async get(tenant: string, hash: string): Promise<UpstreamTokenRecord | undefined> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keyOf(tenant, hash), ConsistentRead: true }));
      return strip(res.Item);
    },

    /** Creates the record; false when one exists already. */
    async create(r: UpstreamTokenRecord): Promise<boolean> {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keyOf(r.tenant, r.token_hash), ...r },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return false;
        throw err;
      }
    },

    /**
     * Creates the record, or takes over, in the same request and without reading it first, a
     * `transient` record whose retry time has come (the client is back when it was told to): it
     * becomes `r`'s `redeeming` record, as a fresh one would be. `{ before }` is the record as it
     * was (undefined: there was none); undefined when a record exists in any other state (then
     * read it and decide).
     */
    async createOrTakeOverDueRetry(r: UpstreamTokenRecord & Lease, now: number): Promise<{ before?: UpstreamTokenRecord } | undefined> {
      try {
        const res = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(r.tenant, r.token_hash),
            UpdateExpression: `SET tenant = :tenant, token_hash = :hash, #status = :redeeming, lease_id = :lease_id, lease_until = :lease_until, updated_at = :now, #ttl = :ttl, version = if_not_exists(version, :zero) + :one REMOVE ${OUTCOME_FIELDS.map((f) => `#${f}`).join(', ')}`,
            ConditionExpression: 'attribute_not_exists(pk) OR (#status = :transient AND retry_at <= :now)',
            ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl', ...Object.fromEntries(OUTCOME_FIELDS.map((f) => [`#${f}`, f])) },
            ExpressionAttributeValues: {
              ':tenant': r.tenant, ':hash': r.token_hash, ':redeeming': 'redeeming', ':transient': 'transient', ':lease_id': r.lease_id,
              ':lease_until': r.lease_until, ':now': now, ':ttl': r.ttl, ':zero': 0, ':one': 1,
            },
            ReturnValues: 'ALL_OLD',
          }),
        );
        return { before: strip(res.Attributes) };
      } catch (err) {
        if (isConditionalCheckFailed(err)) return undefined;
        throw err;
      }
    },

    /** Replaces a record read at `seenVersion` (a take-over); false when it changed meanwhile. */
    async replace(r: UpstreamTokenRecord, seenVersion: number): Promise<boolean> {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keyOf(r.tenant, r.token_hash), ...r },
            ConditionExpression: 'version = :seen',
            ExpressionAttributeValues: { ':seen': seenVersion },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return false;
        throw err;
      }
    },

    /** An owner's write: applies only while `leaseId` still owns the record. */
    async updateAsOwner(tenant: string, hash: string, leaseId: string, fields: Partial<UpstreamTokenRecord>): Promise<boolean> {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':lease': leaseId, ':one': 1 };
      const sets: string[] = [];
      for (const [name, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        names[`#${name}`] = name;
        values[`:${name}`] = value;
        sets.push(`#${name} = :${name}`);
      }
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keyOf(tenant, hash),
            UpdateExpression: `SET ${sets.join(', ')} ADD version :one`,
            ConditionExpression: 'lease_id = :lease',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return false;
        throw err;
      }
    },
  };
}

export type UpstreamTokenRepository = ReturnType<typeof createUpstreamTokenRepository>;
