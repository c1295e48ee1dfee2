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
import type { ClaimOutcome, UsersStore } from '../ports.js';



/** A user, its password and last login IP from the items of its partition. */
export function userWithPasswordOf(items: Record<string, unknown>[]): UserWithPassword {
  const logins = items.find((i) => i.sk === 'LOGINS');
  return {
    user: stripKeys<UserRecord>(items.find((i) => i.sk === 'USER')),
    password: stripKeys<PasswordRecord>(items.find((i) => i.sk === 'PASSWORD')),
    lastIp: (logins?.last_ip as string | null | undefined) ?? undefined,
  };
}


/**
 * A claim whose user is still missing, or no longer carries the identifier, this long after it
 * was written was abandoned by a crash (between a claim and its user's write, or a claim taken
 * early and its giving back).
 */
const ABANDONED_CLAIM_MS = 60_000;

function stripKeys<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
}

/**
 * Users, their passwords and identifier claims. A user's item and password share a
 * partition, so one Query reads both. Claims make (connection, email) and
 * (connection, username) unique without transactions: the claim is written first with
 * `attribute_not_exists`, then the user; a claim left behind by a crash between the two
 * points at a user that does not exist and is taken over by the next creation.
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

  async function claim(key: ItemKey, userId: string): Promise<ClaimOutcome> {
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...key, user_id: userId, claimed_at: now() },
          // A retired identifier (its user changed email or username) is free to take.
          ConditionExpression: 'attribute_not_exists(pk) OR user_id = :u OR retired = :yes',
          ExpressionAttributeValues: { ':u': userId, ':yes': true },
        }),
      );
      return { ok: true };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const existing = await db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
    const holder = existing.Item?.user_id as string | undefined;
    if (!holder) return claim(key, userId);
    const tenantOfKey = key.pk.split('#')[1];
    const held = await getUser(tenantOfKey, holder);
    if (held && carries(held, key)) return { ok: false, reason: 'conflict', holder };
    // A young claim may belong to a creation still writing its user: not ours to take.
    const claimedAt = Number(existing.Item?.claimed_at ?? 0);
    if (now() - claimedAt < ABANDONED_CLAIM_MS) return { ok: false, reason: 'conflict', holder };
    // The claim was left behind by a creation that never wrote its user (or never gave back a
    // claim its existing user did not need): take it over.
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...key, user_id: userId, claimed_at: now() },
          ConditionExpression: 'user_id = :old',
          ExpressionAttributeValues: { ':old': holder },
        }),
      );
      return { ok: true };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return { ok: false, reason: 'conflict', holder };
    }
  }

  const identifierClaimKeys = (user: UserRecord): Array<{ field: 'email' | 'username'; key: ItemKey }> => [
    ...(user.email ? [{ field: 'email' as const, key: keys.emailClaim(user.tenant, user.connection_id, user.email) }] : []),
    ...(user.username ? [{ field: 'username' as const, key: keys.usernameClaim(user.tenant, user.connection_id, user.username) }] : []),
  ];

  /** Claims the user's email and username for its user_id, in that order (the first step of a creation). */
  async function claimIdentifiers(user: UserRecord): Promise<{ ok: true } | { ok: false; field: 'email' | 'username'; holder: string }> {
    for (const { field, key } of identifierClaimKeys(user)) {
      const res = await claim(key, user.user_id);
      if (!res.ok) return { ok: false, field, holder: res.holder };
    }
    return { ok: true };
  }

  /** Whether the user's record carries the identifier this claim is for. */
  const carries = (user: UserRecord, key: ItemKey) => identifierClaimKeys(user).some((c) => c.key.pk === key.pk);

  /** Claims an identifier only if nobody holds it (one conditional write); the time it was taken, or undefined. */
  async function claimIfFree(key: ItemKey, userId: string): Promise<number | undefined> {
    const claimedAt = now();
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...key, user_id: userId, claimed_at: claimedAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return claimedAt;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return undefined;
    }
  }

  /** Deletes a claim taken early if it is still that very claim (a later claim of the same user is kept). */
  async function giveBack(claimUserId: string, c: EarlyClaims['taken'][number]): Promise<void> {
    await db
      .send(
        new DeleteCommand({
          TableName: tableName,
          Key: c.key,
          ConditionExpression: 'user_id = :u AND claimed_at = :at',
          ExpressionAttributeValues: { ':u': claimUserId, ':at': c.claimedAt },
        }),
      )
      .catch((err) => {
        if (!isConditionalCheckFailed(err)) throw err;
      });
  }

  return {
    getUser,
    getUserWithPassword,
    /**
     * The claims of a creation without its user write: a bulk import claims each user's
     * identifiers one by one, then writes the users it may create in batches
     * (imported-users-repository.ts).
     */
    claimIdentifiers,

    /**
     * Reads the claim of a login identifier: the user it points at, and whether it is retired
     * (the user moved to another email or username; a login with it must not go upstream).
     */
    async claimOf(key: ItemKey): Promise<{ user_id: string; retired: boolean } | undefined> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: key }));
      return res.Item ? { user_id: String(res.Item.user_id), retired: res.Item.retired === true } : undefined;
    },


    /**
     * Looks a user about to be created up by its user_id and, in the same round trip, claims its
     * identifiers that nobody holds yet (the usual case for a new user), so that `createUser`
     * need not claim them afterwards. Claims that turn out unused must be given back
     * (`giveBackClaims`); one a crash leaves behind is taken over like any abandoned claim.
     */
    async lookUpClaiming(user: UserRecord): Promise<{ existing?: UserRecord; claims: EarlyClaims }> {
      const wanted = identifierClaimKeys(user);
      const [existing, ...claimedAt] = await Promise.all([getUser(user.tenant, user.user_id), ...wanted.map((c) => claimIfFree(c.key, user.user_id))]);
      const taken = wanted.flatMap((c, i) => (claimedAt[i] === undefined ? [] : [{ ...c, claimedAt: claimedAt[i]! }]));
      return { existing, claims: { userId: user.user_id, taken } };
    },

    /**
     * Gives back the claims taken early that `keep` (the user found or written after all) does
     * not use: all of them without `keep`; those for an identifier `keep` holds with another
     * value. An identifier `keep` lacks stays claimed, for it to be added (`addIdentifier`).
     */
    async giveBackClaims(claims: EarlyClaims, keep?: UserRecord): Promise<void> {
      const unused = claims.taken.filter((c) => !keep || (keep[c.field] !== undefined && !carries(keep, c.key)));
      await Promise.all(unused.map((c) => giveBack(claims.userId, c)));
    },

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
      const res = await claim(key, user.user_id);
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

    /**
     * Moves a login identifier to this user (a change of email or username): claimed before the
     * user is saved, like a creation's; a claim another user holds is a conflict.
     */
    claimIdentifier: claim,

    /**
     * Gives back a claim this user holds (a change refused after it was claimed, an imported user
     * found under another identifier); a retired one stays, so its login still fails locally.
     */
    async releaseIdentifier(key: ItemKey, userId: string): Promise<void> {
      await db
        .send(
          new DeleteCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: 'user_id = :u AND attribute_not_exists(retired)',
            ExpressionAttributeValues: { ':u': userId },
          }),
        )
        .catch((err) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
    },

    /**
     * Keeps the user's previous identifier as retired rather than deleting it: a login with it
     * fails locally instead of reaching the upstream (where the user may still have it) with the
     * password of a user who now has a local one. Anyone may take a retired identifier.
     */
    async retireIdentifier(key: ItemKey, userId: string): Promise<void> {
      await db
        .send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET retired = :yes',
            ConditionExpression: 'user_id = :u',
            ExpressionAttributeValues: { ':u': userId, ':yes': true },
          }),
        )
        .catch((err) => {
          if (!isConditionalCheckFailed(err)) throw err;
        });
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
      for (const { field, key } of identifierClaimKeys(user)) {
        if (claimedEarly.has(key.pk)) continue;
        const res = await claim(key, user.user_id);
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
