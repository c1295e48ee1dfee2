import { createHash } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { ImportedPassword, NewImportedUser } from '../store/imported-users-repository.js';
import { keys } from '../store/keys.js';
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

/** The imported password of a user of the file, as it is stored, or undefined without one. */
function importedPassword(user: ImportedUser): ImportedPassword | undefined {
  if (user.password_hash) return { hash: user.password_hash };
  if (user.custom_password_hash) return { custom_password_hash: user.custom_password_hash };
  return undefined;
}

/** What an import writes with: the users' items and their imported passwords. */
type ImportWriteDeps = Pick<Deps, 'importedUsers' | 'users'>;
export type ImportUsersDeps = ImportWriteDeps & Pick<Deps, 'now' | 'sink'>;

async function putImportedPassword(deps: Pick<Deps, 'importedUsers'>, tenant: string, userId: string, user: ImportedUser, at: string): Promise<void> {
  const password = importedPassword(user);
  if (password) await deps.importedUsers.putImportedPassword(tenant, userId, password, at);
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

async function upsert(deps: ImportWriteDeps, job: ImportJobContext, existing: UserRecord, user: ImportedUser, at: string): Promise<ImportOutcome> {
  if (existing.connection_id !== job.connection.id) {
    return { kind: 'failed', errors: [{ code: 'CONFLICT', message: 'The user exists in another connection', path: 'user_id' }] };
  }
  if (existing.email && user.email.toLowerCase() !== existing.email) {
    return { kind: 'failed', errors: [{ code: 'CONFLICT', message: 'An upsert does not change the email of an existing user', path: 'email' }] };
  }
  // Deleted since it was read: an error of this user, as a failed conditional write was before.
  if (!(await deps.users.putUser(upserted(existing, user, at))).ok) throw new Error('user deleted during its upsert');
  await putImportedPassword(deps, job.tenant, existing.user_id, user, at);
  return { kind: 'updated' };
}

/** The user item an imported user gets when it is new. */
function newUserRecord(job: ImportJobContext, user: ImportedUser, userId: string, at: string): UserRecord {
  const [provider, ...rest] = userId.split('|');
  return {
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
}

/** The email or username of a user of the file belongs to another user (e.g. one who migrated lazily under the upstream `sub`). */
async function whenIdentifierTaken(
  deps: ImportWriteDeps,
  job: ImportJobContext,
  user: ImportedUser,
  taken: { field: 'email' | 'username'; holder: string },
  at: string,
): Promise<ImportOutcome> {
  const outcome = await (async (): Promise<ImportOutcome> => {
    const holder = await deps.users.getUser(job.tenant, taken.holder);
    if (holder && job.upsert && !user.user_id) return upsert(deps, job, holder, user, at);
    if (importedByThisJob(holder, job) && !user.user_id) return { kind: 'inserted' };
    if (!job.upsert) return duplicated();
    return { kind: 'failed', errors: [{ code: 'CONFLICT', message: `The ${taken.field} is held by another user`, path: taken.field }] };
  })();
  if (outcome.kind === 'failed' && taken.field === 'username') {
    // The email was claimed before the username was found taken: a user who failed gives it back
    // (unless its user_id already has that email).
    const userId = importedUserId(job.tenant, job.connection.id, user);
    const own = await deps.users.getUser(job.tenant, userId);
    if (own?.email !== user.email.toLowerCase()) await deps.users.releaseIdentifier(keys.emailClaim(job.tenant, job.connection.id, user.email), userId);
  }
  return outcome;
}

/**
 * The user_id of a user of the file exists, after its identifiers were claimed for it: the
 * claims of identifiers that user does not have are given back, and it is this job's own user
 * (a batch run again), an upsert, or a duplicate.
 */
async function whenUserExists(deps: ImportWriteDeps, job: ImportJobContext, user: ImportedUser, userId: string, existing: UserRecord, at: string): Promise<ImportOutcome> {
  const repo = deps.importedUsers;
  if (existing.email && existing.email !== user.email.toLowerCase()) await deps.users.releaseIdentifier(keys.emailClaim(job.tenant, job.connection.id, user.email), userId);
  if (user.username && existing.username && existing.username !== user.username) {
    await deps.users.releaseIdentifier(keys.usernameClaim(job.tenant, job.connection.id, user.username), userId);
  }
  if (importedByThisJob(existing, job)) {
    // This job (or an earlier submission of the same part) created the user: finish what that run may not have.
    await putImportedPassword(deps, job.tenant, userId, user, at);
    return { kind: 'inserted' };
  }
  if (!job.upsert) return duplicated();
  return upsert(deps, job, existing, user, at);
}

/**
 * Imports one user of a job's file on its own (single-item conditional writes: claims, then
 * the user). Idempotent: running it again finds the user this job created and answers
 * `inserted` again without writing a second one.
 */
export async function importOneUser(deps: ImportWriteDeps & Pick<Deps, 'now'>, job: ImportJobContext, raw: unknown): Promise<ImportOutcome> {
  const checked = validateImportedUser(raw);
  if (!checked.ok) return { kind: 'failed', errors: checked.errors };
  const user = checked.user;
  const at = new Date(deps.now()).toISOString();
  const userId = importedUserId(job.tenant, job.connection.id, user);
  const created = await deps.users.createUser(newUserRecord(job, user, userId, at));
  if (created.outcome === 'created') {
    await putImportedPassword(deps, job.tenant, userId, user, at);
    return { kind: 'inserted' };
  }
  if (created.outcome === 'identifier_taken') return whenIdentifierTaken(deps, job, user, created, at);
  return whenUserExists(deps, job, user, userId, created.user, at);
}

/** Errors of the store (throttling, timeouts): the batch is run again, it is not the user's fault. */
export function isStoreFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err;
}

/** Runs `fn` over the items, at most `concurrency` at once. */
async function eachAtMost<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

interface Claimed {
  index: number;
  user: ImportedUser;
  userId: string;
  record: UserRecord;
}

/**
 * Imports the users of one batch of a file, with the same outcomes as `importOneUser` for each,
 * in fewer requests: each user's identifiers are claimed with a conditional write (uniqueness
 * needs one per user); then one consistent BatchGet per 50 claimed users tells which user_ids
 * exist; the new ones are written 25 to a BatchWrite. A user_id that exists goes through the
 * single-item path (never overwritten: its claims are given back unless it has those
 * identifiers, and it is an upsert or a duplicate). A user_id given twice in the batch is
 * imported on its own after the batch's writes. Store failures throw (the batch runs again and
 * finds what it wrote); any other surprise fails only its user.
 */
export async function importUsers(deps: ImportUsersDeps, job: ImportJobContext, raws: unknown[], opts: { concurrency: number }): Promise<ImportOutcome[]> {
  const outcomes: ImportOutcome[] = new Array(raws.length);
  const at = new Date(deps.now()).toISOString();
  const claimed: Claimed[] = [];
  const settle = async (index: number, step: () => Promise<ImportOutcome | undefined>) => {
    try {
      const outcome = await step();
      if (outcome) outcomes[index] = outcome;
    } catch (err) {
      if (isStoreFailure(err)) throw err;
      // One user's surprise never stops the others.
      deps.sink.warn('import_user_failed', { tenant: job.tenant, job_id: job.jobId, error: err instanceof Error ? err.name : 'unknown' });
      outcomes[index] = { kind: 'failed', errors: [{ code: 'INTERNAL_ERROR', message: 'The user could not be imported', path: '' }] };
    }
  };

  // 1. Each user's identifiers, claimed for its user_id.
  await eachAtMost([...raws.keys()], opts.concurrency, (index) =>
    settle(index, async () => {
      const checked = validateImportedUser(raws[index]);
      if (!checked.ok) return { kind: 'failed', errors: checked.errors };
      const user = checked.user;
      const userId = importedUserId(job.tenant, job.connection.id, user);
      const record = newUserRecord(job, user, userId, at);
      const claim = await deps.users.claimIdentifiers(record);
      if (!claim.ok) return whenIdentifierTaken(deps, job, user, claim, at);
      claimed.push({ index, user, userId, record });
      return undefined;
    }),
  );

  // 2. Which of their user_ids exist; the others are written in batches.
  claimed.sort((a, b) => a.index - b.index);
  const seen = new Set<string>();
  const first = claimed.filter((c) => !seen.has(c.userId) && seen.add(c.userId));
  const repeated = claimed.filter((c) => !first.includes(c));
  const repo = deps.importedUsers;
  const found = await repo.readForImport(job.tenant, first.map((c) => c.userId));
  const fresh: Claimed[] = [];
  const existing: Array<Claimed & { existing: UserRecord }> = [];
  for (const c of first) {
    const items = found.get(c.userId);
    if (items?.user) existing.push({ ...c, existing: items.user });
    else fresh.push(c);
  }
  const writes: NewImportedUser[] = fresh.map((c) => {
    const password = importedPassword(c.user);
    // A password item without its user (never left by this service's own writes) is kept unless it was imported.
    const local = found.get(c.userId)?.password && found.get(c.userId)?.password?.origin !== 'import';
    return { user: c.record, ...(password && !local ? { password } : {}) };
  });
  await repo.writeNewUsers(writes, at);
  for (const c of fresh) outcomes[c.index] = { kind: 'inserted' };

  // 3. The users whose user_id exists, and the user_ids given twice, one by one.
  await eachAtMost(existing, opts.concurrency, (c) => settle(c.index, () => whenUserExists(deps, job, c.user, c.userId, c.existing, at)));
  for (const c of repeated) await settle(c.index, () => importOneUser(deps, job, raws[c.index]));
  return outcomes;
}
