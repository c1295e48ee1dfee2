import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { batchGetItems, isConditionalCheckFailed } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import type { CreateUserOutcome, EarlyClaims, PasswordRecord, UserRecord, UserWithPassword } from './records.js';

export type { CreateUserOutcome, EarlyClaims, UserWithPassword } from './records.js';
import { usersListingKeyOf } from './users-index.js';
import { createIdentifierClaims } from './identifier-claims.js';
import type { ClaimOutcome, UsersStore } from '../ports.js';



/** A user, its password and last login IP from the items of its partition. */
export function userWithPasswordOf(items: Record<string, unknown>[]): UserWithPassword {
  const logins = items.find((i) => i.sk === 'LOGINS');
  const user = stripKeys<UserRecord>(items.find((i) => i.sk === 'USER'));
  return {
    user,
    password: stripKeys<PasswordRecord>(items.find((i) => i.sk === 'PASSWORD')),
    lastIp: (logins?.last_ip as string | null | undefined) ?? undefined,
    // Read with the user: 0 when the user never signed in here.
    ...(user ? { loginsCount: Number(logins?.logins_count ?? 0) } : {}),
  };
}

function stripKeys<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
}

/**
 * Users, their passwords and identifier claims. A user's item and password share a
 * partition, so one Query reads both. The claims that make (connection, email) and
 * (connection, username) unique are identifier-claims.ts; a creation claims first, then
 * writes its user.
 */
export function createUsersRepository(db: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now): UsersStore {
  async function getUserWithPassword(tenant: string, userId: string): Promise<UserWithPassword> {
    const res = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.userPartition(tenant, userId) },
      }),
    );
    return userWithPasswordOf((res.Items ?? []) as Record<string, unknown>[]);
  }

  async function getUser(tenant: string, userId: string): Promise<UserRecord | undefined> {
    const res = await db.send(new GetCommand({ TableName: tableName, Key: keys.user(tenant, userId) }));
    return stripKeys<UserRecord>(res.Item);
  }

  /** One BatchGet for several items of different kinds (e.g. lockout + claim). */
  const getMany = (itemKeys: ItemKey[]) => batchGetItems(db, tableName, itemKeys);

  const claims = createIdentifierClaims(db, tableName, getUser, now);

  return {
    getUser,
    getUserWithPassword,
    ...claims.store,

    /**
     * Gives an existing user a login identifier it lacks (e.g. a user created by a refresh
     * re-mint without an email, who then signs in with that email through the fallback):
     * claims it, then sets the field if it is still empty.
     */
    async addIdentifier(user: UserRecord, field: 'email' | 'username', value: string, at: string): Promise<ClaimOutcome> {
      const key =
        field === 'email'
          ? keys.emailClaim(user.tenant, user.connection_id, value)
          : keys.usernameClaim(user.tenant, user.connection_id, value);
      const res = await claims.claim(key, user.user_id);
      if (!res.ok) return res;
      await db
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.user(user.tenant, user.user_id),
            UpdateExpression: 'SET #field = :value, updated_at = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#field)',
            ExpressionAttributeNames: { '#field': field },
            ExpressionAttributeValues: { ':value': field === 'email' ? value.toLowerCase() : value, ':at': at },
          }),
        )
        .catch((err) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
      return { ok: true };
    },

    getMany,

    /**
     * Creates a user with the given `user_id`, claiming its email and username first (but those
     * `early` holds, claimed while it was looked up). Idempotent by `user_id`: a user that already
     * exists is returned as `exists`. Callers look the user up first
     * (lambdas/identity/create-user.ts), so this does not read again.
     */
    async createUser(user: UserRecord, early?: EarlyClaims): Promise<CreateUserOutcome> {
      const claimedEarly = new Set(early?.userId === user.user_id ? early.taken.map((c) => c.key.pk) : []);
      for (const { field, key } of claims.identifierClaimKeys(user)) {
        if (claimedEarly.has(key.pk)) continue;
        const res = await claims.claim(key, user.user_id);
        if (!res.ok) return { outcome: 'identifier_taken', field, holder: res.holder };
      }
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.user(user.tenant, user.user_id), ...usersListingKeyOf(user.tenant, user.user_id), ...user },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return { outcome: 'created', user };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        const winner = await getUser(user.tenant, user.user_id);
        return { outcome: 'exists', user: winner ?? user };
      }
    },

    /** Stores a password hash; with `onlyIfAbsent` a concurrent first writer wins. */
    async putPassword(tenant: string, userId: string, hash: string, now: string, opts: { onlyIfAbsent?: boolean } = {}) {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.password(tenant, userId), hash, updated_at: now },
            ConditionExpression: opts.onlyIfAbsent ? 'attribute_not_exists(pk)' : undefined,
          }),
        );
        return true;
      } catch (err) {
        if (opts.onlyIfAbsent && isConditionalCheckFailed(err)) return false;
        throw err;
      }
    },

    /**
     * Makes an imported password local after its first successful login: a custom hash is
     * replaced by `bcrypt`; an imported bcrypt hash is only marked local. Conditional on the item
     * still being the one that was read, so a reset or change written meanwhile wins (false).
     */
    async settleImportedPassword(tenant: string, userId: string, read: PasswordRecord, bcrypt: string | undefined, now: string): Promise<boolean> {
      const key = keys.password(tenant, userId);
      try {
        if (read.hash) {
          await db.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET origin = :local',
              ConditionExpression: '#hash = :h AND origin = :import',
              ExpressionAttributeNames: { '#hash': 'hash' },
              ExpressionAttributeValues: { ':h': read.hash, ':local': 'local', ':import': 'import' },
            }),
          );
        } else {
          await db.send(
            new PutCommand({
              TableName: tableName,
              Item: { ...key, hash: bcrypt, origin: 'local', updated_at: now },
              ConditionExpression: 'attribute_not_exists(#hash) AND updated_at = :u',
              ExpressionAttributeNames: { '#hash': 'hash' },
              ExpressionAttributeValues: { ':u': read.updated_at },
            }),
          );
        }
        return true;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return false;
        throw err;
      }
    },

    /**
     * Records the upstream a user came from, only when none is on record; answers the upstream
     * on record afterwards (this one, or the one another request recorded first).
     */
    async recordUpstream(tenant: string, userId: string, upstream: string): Promise<string | undefined> {
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.user(tenant, userId),
            UpdateExpression: 'SET upstream = :u',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(upstream)',
            ExpressionAttributeValues: { ':u': upstream },
          }),
        );
        return upstream;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
      }
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keys.user(tenant, userId), ConsistentRead: true }));
      return res.Item?.upstream as string | undefined;
    },

    /**
     * Counts a login on the user's login statistics item, apart from the user item: the user
     * item carries the listing index key, so updating it would write the index on every login.
     */
    async recordLogin(tenant: string, userId: string, at: string, ip: string | undefined): Promise<{ firstLogin: boolean }> {
      const res = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.userLogins(tenant, userId),
          UpdateExpression: 'SET last_login = :at, last_ip = :ip ADD logins_count :one',
          ExpressionAttributeValues: { ':at': at, ':ip': ip ?? null, ':one': 1 },
          // Whether this was the user's first login here (the drain view of imports counts it).
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return { firstLogin: res.Attributes?.logins_count === undefined };
    },

    /**
     * The login statistics item of a login whose previous count this request read, for its final
     * BatchWrite (no request of its own). Unlike `recordLogin`, two logins of one user finishing
     * together may count one; an imported user's first sign-in goes through `recordLogin`.
     */
    loginStatsItem(tenant: string, userId: string, login: { at: string; ip: string | undefined; countRead: number }) {
      return { ...keys.userLogins(tenant, userId), last_login: login.at, last_ip: login.ip ?? null, logins_count: login.countRead + 1 };
    },

    /** Replaces an existing user: `not_found` when it is gone (deleted meanwhile). */
    async putUser(user: UserRecord): Promise<{ ok: true } | { ok: false; reason: 'not_found' }> {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.user(user.tenant, user.user_id), ...usersListingKeyOf(user.tenant, user.user_id), ...user },
            ConditionExpression: 'attribute_exists(pk)',
          }),
        );
        return { ok: true };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        return { ok: false, reason: 'not_found' };
      }
    },

    /** Deletes the user's items, password first, then the user and its login statistics, then its claims. */
    async deleteUser(user: UserRecord) {
      await db.send(new DeleteCommand({ TableName: tableName, Key: keys.password(user.tenant, user.user_id) }));
      await db.send(new DeleteCommand({ TableName: tableName, Key: keys.user(user.tenant, user.user_id) }));
      await db.send(new DeleteCommand({ TableName: tableName, Key: keys.userLogins(user.tenant, user.user_id) }));
      const claimKeys = [
        user.email ? keys.emailClaim(user.tenant, user.connection_id, user.email) : undefined,
        user.username ? keys.usernameClaim(user.tenant, user.connection_id, user.username) : undefined,
      ].filter((k): k is ItemKey => !!k);
      for (const key of claimKeys) {
        await db
          .send(
            new DeleteCommand({
              TableName: tableName,
              Key: key,
              ConditionExpression: 'user_id = :u',
              ExpressionAttributeValues: { ':u': user.user_id },
            }),
          )
          .catch((err) => {
            if (!isConditionalCheckFailed(err)) throw err;
          });
      }
    },
  };
}

export type UsersRepository = UsersStore;
