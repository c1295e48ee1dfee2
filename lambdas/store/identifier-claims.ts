import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import { keys, type ItemKey } from './keys.js';
import type { EarlyClaims, UserRecord } from './records.js';
import type { ClaimOutcome, UsersStore } from '../ports.js';

/**
 * A claim whose user is still missing, or no longer carries the identifier, this long after it
 * was written was abandoned by a crash (between a claim and its user's write, or a claim taken
 * early and its giving back).
 */
const ABANDONED_CLAIM_MS = 60_000;

/** The identifier-claim part of the users store. */
type IdentifierClaimsStore = Pick<
  UsersStore,
  'claimIdentifiers' | 'claimOf' | 'lookUpClaiming' | 'giveBackClaims' | 'claimIdentifier' | 'releaseIdentifier' | 'retireIdentifier'
>;

/**
 * Login identifiers made unique per connection without transactions: a claim item for
 * (connection, email) and (connection, username) is written with `attribute_not_exists` before
 * its user; a claim left behind by a crash points at a user that does not exist (or no longer
 * carries it) and is taken over once old. `getUser` reads the holder a claim points at.
 */
export function createIdentifierClaims(
  db: DynamoDBDocumentClient,
  tableName: string,
  getUser: (tenant: string, userId: string) => Promise<UserRecord | undefined>,
  now: () => number,
) {
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

  const store: IdentifierClaimsStore = {
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
  };
  return { claim, identifierClaimKeys, store };
}
