import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps.js';
import { isConditionalCheckFailed } from '../store/dynamo-client.js';
import { keys, type ItemKey } from '../store/keys.js';
import type { ConnectionRecord, UserRecord } from '../store/records.js';
import { validateImportedUser, type ImportError, type ImportedUser } from './import-user-schema.js';

export interface ImportJobContext {
  tenant: string;
  jobId: string;
  connection: ConnectionRecord;
  upsert: boolean;
  /** The job's `external_id`: the same file part sent again under it (a client that crashed) is not a duplicate. */
  externalId?: string;
}

/** This user was created by this job, or by an earlier submission of the same file part (same external_id). */
function importedByThisJob(user: UserRecord | undefined, job: ImportJobContext): boolean {
  const arrival = user?.arrival;
  if (arrival?.via !== 'import') return false;
  return arrival.source === job.jobId || (job.externalId !== undefined && arrival.external_id === job.externalId);
}

export type ImportOutcome = { kind: 'inserted' } | { kind: 'updated' } | { kind: 'failed'; errors: ImportError[] };

/** Fields an upsert replaces when the file gives them (Auth0's upsert); identifiers never change. */
const UPSERT_FIELDS = ['email_verified', 'given_name', 'family_name', 'name', 'nickname', 'picture', 'phone_number', 'blocked'] as const;

const duplicated = (): ImportOutcome => ({
  kind: 'failed',
  errors: [{ code: 'DUPLICATED_USER', message: 'The user already exist and upsert parameter is false', path: '' }],
});

/**
 * The user_id an imported user gets: Auth0's `provider|id` as it is (so the re-mint and the
 * password fallback, which know the user by the upstream `sub`, find this user), a bare id with
 * `auth0|` before it, and without one an id derived from (connection, email), so that running
 * the same file again finds the same user instead of creating a second one.
 */
export function importedUserId(tenant: string, connectionId: string, user: ImportedUser): string {
  if (user.user_id) return user.user_id.includes('|') ? user.user_id : `auth0|${user.user_id}`;
  const digest = createHash('sha256').update(`${tenant}\n${connectionId}\n${user.email.toLowerCase()}`).digest('hex');
  return `auth0|${digest.slice(0, 24)}`;
}

/**
 * Stores the imported password unless the user has a local one: written only when there is no
 * password item or the one there was imported too. A password set here (fallback, reset,
 * change) always wins over an imported hash.
 */
async function putImportedPassword(deps: Deps, tenant: string, userId: string, user: ImportedUser, at: string): Promise<void> {
  if (!user.password_hash && !user.custom_password_hash) return;
  try {
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          ...keys.password(tenant, userId),
          ...(user.password_hash ? { hash: user.password_hash } : { custom_password_hash: user.custom_password_hash }),
          origin: 'import',
          updated_at: at,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR origin = :import',
        ExpressionAttributeValues: { ':import': 'import' },
      }),
    );
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
  }
}

/** Gives back an identifier the creation claimed for a user that turned out to exist with another one. */
async function releaseClaim(deps: Deps, key: ItemKey, userId: string): Promise<void> {
  await deps.db
    .send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: key,
        ConditionExpression: 'user_id = :u AND attribute_not_exists(retired)',
        ExpressionAttributeValues: { ':u': userId },
      }),
    )
    .catch((err) => {
      if (!isConditionalCheckFailed(err)) throw err;
    });
}

function mergeTopLevel(current: Record<string, unknown> | undefined, patch: Record<string, unknown> | undefined) {
  return patch === undefined ? (current ?? {}) : { ...(current ?? {}), ...patch };
}

/** Auth0's upsert: the profile fields the file gives replace the user's, metadata merges at the top level. */
function upserted(existing: UserRecord, user: ImportedUser, at: string): UserRecord {
  const next: UserRecord = { ...existing, updated_at: at };
  // A user without an email (created by a re-mint) gets the one the file gives: it was claimed for it.
  if (!existing.email) next.email = user.email.toLowerCase();
  for (const field of UPSERT_FIELDS) {
    if (user[field] !== undefined) (next as unknown as Record<string, unknown>)[field] = user[field];
  }
  if (next.blocked === false) delete next.blocked;
  next.app_metadata = mergeTopLevel(existing.app_metadata, user.app_metadata);
  next.user_metadata = mergeTopLevel(existing.user_metadata, user.user_metadata);
  return next;
}

async function upsert(deps: Deps, job: ImportJobContext, existing: UserRecord, user: ImportedUser, at: string): Promise<ImportOutcome> {
  if (existing.connection_id !== job.connection.id) {
    return { kind: 'failed', errors: [{ code: 'CONFLICT', message: 'The user exists in another connection', path: 'user_id' }] };
  }
  if (existing.email && user.email.toLowerCase() !== existing.email) {
    return { kind: 'failed', errors: [{ code: 'CONFLICT', message: 'An upsert does not change the email of an existing user', path: 'email' }] };
  }
  await deps.users.putUser(upserted(existing, user, at));
  await putImportedPassword(deps, job.tenant, existing.user_id, user, at);
  return { kind: 'updated' };
}

/**
 * Imports one user of a job's file. Idempotent: running it again (a batch redelivered after a
 * crash) finds the user this job created and answers `inserted` again without writing a second
 * one. An existing user is an error without `upsert`, and merged with it.
 */
export async function importOneUser(deps: Deps, job: ImportJobContext, raw: unknown): Promise<ImportOutcome> {
  const checked = validateImportedUser(raw);
  if (!checked.ok) return { kind: 'failed', errors: checked.errors };
  const user = checked.user;
  const at = new Date(deps.now()).toISOString();
  const userId = importedUserId(job.tenant, job.connection.id, user);

  // Straight to the conditional writes (claim, then user): a new user costs two requests; an
  // existing one is read only when the write says it exists.
  let existing: UserRecord | undefined;
  {
    const [provider, ...rest] = userId.split('|');
    const record: UserRecord = {
      user_id: userId,
      tenant: job.tenant,
      connection_id: job.connection.id,
      connection: job.connection.name,
      email: user.email.toLowerCase(),
      // Auth0: an imported email is unverified unless the file says otherwise.
      email_verified: user.email_verified ?? false,
      username: user.username,
      name: user.name,
      nickname: user.nickname,
      given_name: user.given_name,
      family_name: user.family_name,
      picture: user.picture,
      phone_number: user.phone_number,
      identities: [{ provider, user_id: rest.join('|'), connection: job.connection.name, isSocial: false }],
      app_metadata: user.app_metadata ?? {},
      user_metadata: user.user_metadata ?? {},
      ...(user.blocked ? { blocked: true } : {}),
      arrival: { via: 'import', source: job.jobId, at, ...(job.externalId !== undefined ? { external_id: job.externalId } : {}) },
      created_at: at,
      updated_at: at,
      logins_count: 0,
    };
    const created = await deps.users.createUser(record);
    if (created.outcome === 'created') {
      await putImportedPassword(deps, job.tenant, userId, user, at);
      return { kind: 'inserted' };
    }
    if (created.outcome === 'identifier_taken') {
      // The email or username belongs to another user (e.g. one who migrated lazily under the upstream `sub`).
      const holder = await deps.users.getUser(job.tenant, created.holder);
      if (holder && job.upsert && !user.user_id) return upsert(deps, job, holder, user, at);
      if (importedByThisJob(holder, job) && !user.user_id) return { kind: 'inserted' };
      if (!job.upsert) return duplicated();
      return {
        kind: 'failed',
        errors: [{ code: 'CONFLICT', message: `The ${created.field} is held by another user`, path: created.field }],
      };
    }
    existing = created.user;
    // The user exists under other identifiers: the ones just claimed for it are given back.
    if (existing.email && existing.email !== user.email.toLowerCase()) await releaseClaim(deps, keys.emailClaim(job.tenant, job.connection.id, user.email), userId);
    if (user.username && existing.username && existing.username !== user.username) {
      await releaseClaim(deps, keys.usernameClaim(job.tenant, job.connection.id, user.username), userId);
    }
  }
  if (importedByThisJob(existing, job)) {
    // This job (or an earlier submission of the same part) created the user: finish what that run may not have.
    await putImportedPassword(deps, job.tenant, userId, user, at);
    return { kind: 'inserted' };
  }
  if (!job.upsert) return duplicated();
  return upsert(deps, job, existing, user, at);
}
