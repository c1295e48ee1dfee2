/**
 * The ports: what the domain code asks of the outside world and of the pluggable flows, as
 * types only. The store interfaces are written out here and depend only on the records
 * (store/records.ts); the repositories implement them. Nothing here depends on `deps.ts` (which
 * assembles them), so no type cycle runs through the dependency bag.
 *
 * The pluggable flows are bound to their function's composition when it is built
 * (lambdas/compose.ts): callers hand them only the request's context.
 */
import type { MigrationPath } from './logs/log-types.js';
import type { MigrationOutcome } from './logs/migration-outcome.js';
import type { RequestWrites } from './logs/request-writes.js';
import type {
  ClaimMappingRecord,
  ClientGrantRecord,
  ClientRecord,
  ConnectionRecord,
  ConsumeOutcome,
  CreateUserOutcome,
  EarlyClaims,
  HookRecord,
  IdentifierClaim,
  ItemKey,
  LockoutPolicy,
  MigrationAttemptCounts,
  MigrationCounts,
  MigrationSourceRecord,
  PasswordRecord,
  RefreshFamilyItem,
  RefreshTokenItem,
  Reservation,
  ResourceServerRecord,
  RoleRecord,
  TenantConfig,
  TenantSettings,
  UserRecord,
  UserWithPassword,
} from './store/records.js';
import type { BatchResult, ImportDrainCounts, ImportJobRecord, JobSummary } from './store/flow-records.js';
import type {
  AuthorizationCodeItem,
  LoginSessionRecord,
  LoginTransactionRecord,
  RedeemOutcome,
  SocialTransactionRecord,
} from './store/login-records.js';

export type { UpstreamClient as UpstreamSource } from './migration/upstream-client.js';
export type * from './flow-ports.js';

/** A claim of a login identifier could not be taken: someone else holds it. */
export type ClaimOutcome = { ok: true } | { ok: false; reason: 'conflict'; holder: string };

/**
 * Users, their passwords, login statistics and identifier claims (lambdas/store/users-repository.ts).
 * Claims keep (connection, email) and (connection, username) unique without transactions.
 */
export interface UsersStore {
  getUser(tenant: string, userId: string): Promise<UserRecord | undefined>;
  getUserWithPassword(tenant: string, userId: string): Promise<UserWithPassword>;
  /** The claim of a login identifier: the user it points at, and whether it is retired. */
  claimOf(key: ItemKey): Promise<IdentifierClaim | undefined>;
  /** Looks a user about to be created up and claims its free identifiers in the same round trip. */
  lookUpClaiming(user: UserRecord): Promise<{ existing?: UserRecord; claims: EarlyClaims }>;
  /** Gives back early claims `keep` does not use (all of them without `keep`). */
  giveBackClaims(claims: EarlyClaims, keep?: UserRecord): Promise<void>;
  /** Gives an existing user a login identifier it lacks (claim, then the field if still empty). */
  addIdentifier(user: UserRecord, field: 'email' | 'username', value: string, at: string): Promise<ClaimOutcome>;
  /** Claims a new user's email and username, in that order (the first step of a creation; batched imports write the users after). */
  claimIdentifiers(user: UserRecord): Promise<{ ok: true } | { ok: false; field: 'email' | 'username'; holder: string }>;
  /** Moves a login identifier to this user (the new claim before the user is saved). */
  claimIdentifier(key: ItemKey, userId: string): Promise<ClaimOutcome>;
  /** Gives back a claim this user holds (a refused change). */
  releaseIdentifier(key: ItemKey, userId: string): Promise<void>;
  /** Keeps a claim this user held as retired (its login must not go upstream; anyone may take it). */
  retireIdentifier(key: ItemKey, userId: string): Promise<void>;
  getMany(itemKeys: ItemKey[]): Promise<Map<string, Record<string, unknown>>>;
  /** Creates a user (identifiers claimed first, except those `early` holds); idempotent by user_id. */
  createUser(user: UserRecord, early?: EarlyClaims): Promise<CreateUserOutcome>;
  /** Stores a password hash; with `onlyIfAbsent` a concurrent first writer wins (false). */
  putPassword(tenant: string, userId: string, hash: string, now: string, opts?: { onlyIfAbsent?: boolean }): Promise<boolean>;
  /** Makes an imported password local after its first login; false when a change was written meanwhile. */
  settleImportedPassword(tenant: string, userId: string, read: PasswordRecord, bcrypt: string | undefined, now: string): Promise<boolean>;
  /** Records the upstream a user came from if none is; answers the upstream on record. */
  recordUpstream(tenant: string, userId: string, upstream: string): Promise<string | undefined>;
  /** Counts a login on the user's login statistics (last login, IP, count). */
  recordLogin(tenant: string, userId: string, at: string, ip: string | undefined): Promise<{ firstLogin: boolean }>;
  /** The same for a login that read the count before: an item for the request's final write. */
  loginStatsItem(tenant: string, userId: string, login: { at: string; ip: string | undefined; countRead: number }): Record<string, unknown>;
  /** Replaces an existing user; `not_found` when it is gone. */
  putUser(user: UserRecord): Promise<{ ok: true } | { ok: false; reason: 'not_found' }>;
  /** Deletes the user's items and gives back its claims. */
  deleteUser(user: UserRecord): Promise<void>;
}

/** Failed-login counters: strike attempts, identifier-wide ceilings and suspicious-IP buckets. */
export interface LockoutStore {
  reserveAttempt(key: ItemKey, policy: LockoutPolicy, nowSeconds: number): Promise<Reservation>;
  recordFailedAttempt(key: ItemKey): Promise<number>;
  releaseAttempt(key: ItemKey): Promise<void>;
  failuresOf(key: ItemKey, nowSeconds: number): Promise<number>;
  countFailure(key: ItemKey, windowSeconds: number, nowSeconds: number): Promise<number>;
  bucketLevel(key: ItemKey, rateMs: number, nowMs: number): Promise<number>;
  addToBucket(key: ItemKey, rateMs: number, nowMs: number): Promise<number>;
  /** The keys of a subject's counters (per client IP, and the identifier-wide ceiling), at most 100: what a password reset clears. */
  countersOfSubject(tenant: string, connectionId: string, subject: string): Promise<ItemKey[]>;
}

/** The password check's combined reads (lambdas/store/login-reads.ts). */
export interface LoginReads {
  /**
   * The identifier's claim and the client IP's failures; with `holder`, also the user the claim
   * names (`holderRead`, as `userAndCeiling` reads it) when the process already knows which user
   * that is and the claim read with it confirms it (not retired, same user).
   */
  identifierAndIp(
    claimKey: ItemKey,
    ip: { key: ItemKey; rateMs: number; nowMs: number } | undefined,
    holder?: { tenant: string; ceiling: (userId: string) => { key: ItemKey; nowSeconds: number } | undefined },
  ): Promise<{ claim?: IdentifierClaim; ipFailures: number; holderRead?: UserAndCeilingRead }>;
  userAndCeiling(tenant: string, userId: string, ceiling: { key: ItemKey; nowSeconds: number } | undefined): Promise<UserAndCeilingRead>;
  /**
   * Whether this process read the client IP's failures at `maxAttempts` or more within the last
   * few seconds (less what its bucket leaked since): its next attempts are refused without a read.
   */
  ipKnownBlocked(ip: { key: ItemKey; rateMs: number; nowMs: number; maxAttempts: number }): boolean;
}

/** A user with its password and login statistics, and the failures on the identifier-wide ceiling. */
export interface UserAndCeilingRead {
  holder: UserWithPassword;
  ceilingFailures: number;
}

/** Refresh tokens and their families. */
export interface RefreshTokenStore {
  readExchange(tenant: string, p: { tokenId: string; familyId: string; userId: string }): Promise<{ token?: RefreshTokenItem; family?: RefreshFamilyItem; user?: UserRecord }>;
  readRemint(tenant: string, p: { userId: string; familyId?: string; tokenId?: string }): Promise<{ user?: UserRecord; family?: RefreshFamilyItem; minted?: RefreshTokenItem }>;
  getToken(tokenId: string): Promise<RefreshTokenItem | undefined>;
  /** The item to write for a token (in the request's final BatchWrite). */
  tokenItem(t: RefreshTokenItem): ItemKey & Record<string, unknown>;
  familyItem(f: RefreshFamilyItem): ItemKey & Record<string, unknown>;
  consumeRotating(tokenId: string, nowSeconds: number, leeway: number, successorId?: string): Promise<ConsumeOutcome>;
  restoreAfterFailedRotation(tokenId: string, successorId: string): Promise<void>;
  touch(tokenId: string, idleExp: number | undefined, ttl: number): Promise<void>;
  revokeFamily(familyId: string, nowSeconds: number, reason: string): Promise<void>;
}

/** A conditional configuration write: `mustNotExist` fails as `conflict` (it exists already), `mustExist` as `not_found` (it is gone). */
export type ConfigWriteOpts = { mustNotExist?: boolean; mustExist?: boolean };

/** What a conditional write came to: written, or refused by its condition (never a storage error). */
export type WriteOutcome = { ok: true } | { ok: false; reason: 'conflict' | 'not_found' };

/** The tenant's configuration (one partition) and custom domains. */
export interface TenantConfigStore {
  load(tenant: string): Promise<TenantConfig | undefined>;
  putSettings(settings: TenantSettings, opts?: { mustNotExist?: boolean }): Promise<WriteOutcome>;
  putClient(tenant: string, c: ClientRecord, opts?: ConfigWriteOpts): Promise<WriteOutcome>;
  putConnection(tenant: string, c: ConnectionRecord, opts?: ConfigWriteOpts): Promise<WriteOutcome>;
  putResourceServer(tenant: string, r: ResourceServerRecord, opts?: ConfigWriteOpts): Promise<WriteOutcome>;
  putClientGrant(tenant: string, g: ClientGrantRecord, opts?: ConfigWriteOpts): Promise<WriteOutcome>;
  putMigrationSource(tenant: string, s: MigrationSourceRecord, opts?: ConfigWriteOpts): Promise<WriteOutcome>;
  putHook(tenant: string, h: HookRecord, opts?: ConfigWriteOpts): Promise<WriteOutcome>;
  putRole(tenant: string, r: RoleRecord, opts?: ConfigWriteOpts): Promise<WriteOutcome>;
  putClaimMapping(tenant: string, m: ClaimMappingRecord, opts?: { mustNotExist?: boolean }): Promise<WriteOutcome>;
  putAttackProtection(tenant: string, kind: 'brute-force-protection' | 'suspicious-ip-throttling', record: object): Promise<WriteOutcome>;
  deleteItem(key: ItemKey): Promise<unknown>;
  putDomain(host: string, tenant: string): Promise<WriteOutcome>;
  tenantOfDomain(host: string): Promise<string | undefined>;
}

/** A process's short-lived copy of tenant configurations. */
export interface TenantConfigCache {
  get(tenant: string, loader: (tenant: string) => Promise<TenantConfig | undefined>): Promise<TenantConfig | undefined>;
  invalidate(tenant: string): void;
}

/** Per-day migration counters (the drain figures). */
export interface MigrationCountersStore {
  increment(tenant: string, day: string, path: MigrationPath, by?: number): Promise<void>;
  get(tenant: string, day: string): Promise<MigrationCounts>;
  sumDays(tenant: string, days: string[]): Promise<Map<string, MigrationCounts>>;
  /** With `alsoMigrated`, the same write also adds one to the day's migrations of the path (what `increment` adds). */
  countAttempt(tenant: string, day: string, path: MigrationPath, outcome: MigrationOutcome, opts?: { alsoMigrated?: boolean }): Promise<void>;
  attemptsOfDays(tenant: string, days: string[]): Promise<Map<string, MigrationAttemptCounts>>;
  recordUpstreamVerification(tenant: string, path: MigrationPath, at: number): Promise<void>;
  lastUpstreamVerification(tenant: string): Promise<{ at: number; path: MigrationPath } | undefined>;
}

/** A new pending login could not be stored: its id is taken. */
export type CreateOutcome = { ok: true } | { ok: false; reason: 'conflict' };

/**
 * Login sessions (lambdas/store/login-sessions-repository.ts), stored under a hash of the
 * cookie's id: the cookie value itself is never stored.
 */
export interface LoginSessionsStore {
  start(idHash: string, session: LoginSessionRecord): Promise<void>;
  /** The tenant's session under this hash, unless it has expired (checked on read). */
  liveSession(tenant: string, idHash: string): Promise<LoginSessionRecord | undefined>;
  end(tenant: string, idHash: string): Promise<void>;
}

/**
 * Pending logins: the login page's and a social provider's (both in
 * lambdas/store/pending-logins-repository.ts). Each is ended once.
 */
export interface PendingLoginsStore<T extends LoginTransactionRecord | SocialTransactionRecord> {
  create(tx: T): Promise<CreateOutcome>;
  /** The tenant's pending login with this id, unless it has expired (checked on read). */
  liveTransaction(tenant: string, id: string): Promise<T | undefined>;
  /** Ends it: true for the one call that did, false when another request already ended it. */
  end(tenant: string, id: string): Promise<boolean>;
}

export type LoginTransactionsStore = PendingLoginsStore<LoginTransactionRecord>;
export type SocialTransactionsStore = PendingLoginsStore<SocialTransactionRecord>;

/**
 * One-time authorization codes, stored only as hashes (lambdas/store/authorization-code-repository.ts).
 * Redemption and the replay mark are single conditional updates.
 */
export interface AuthorizationCodesStore {
  put(codeHash: string, item: AuthorizationCodeItem): Promise<CreateOutcome>;
  /** The code under this hash as stored (its expiry and bindings are the grant's to check). */
  get(tenant: string, codeHash: string): Promise<AuthorizationCodeItem | undefined>;
  redeem(tenant: string, codeHash: string, nowSeconds: number): Promise<RedeemOutcome>;
  /** Records the family a redemption started; true when a replay was seen meanwhile. */
  recordFamily(tenant: string, codeHash: string, familyId: string): Promise<boolean>;
  /** Marks a replay; returns the family the first redemption started, if recorded yet. */
  markReplayed(tenant: string, codeHash: string, nowSeconds: number): Promise<string | undefined>;
}

/** The drain view of bulk imports, sharded counters (lambdas/store/import-counters-repository.ts). */
export interface ImportCountersStore {
  /** Users a batch inserted (counted once: a batch's result is written once). */
  countImported(tenant: string, n: number): Promise<void>;
  /** An imported user's first sign-in. */
  countFirstSignIn(tenant: string): Promise<void>;
  read(tenant: string): Promise<ImportDrainCounts>;
}

/** Users-import jobs: the job, its file's batches and their results (lambdas/store/jobs-repository.ts). */
export interface ImportJobsStore {
  /** Stores a new job: its batches first, then the pending marker, then the job item. */
  createImportJob(job: ImportJobRecord, batches: string[]): Promise<void>;
  getJob(tenant: string, id: string): Promise<ImportJobRecord | undefined>;
  /** The raw users of batch n (a JSON array text). */
  getBatch(tenant: string, id: string, n: number): Promise<string | undefined>;
  hasResult(tenant: string, id: string, n: number): Promise<boolean>;
  /** Records a batch's outcome once (answers whether this call did); a second run's result is dropped. */
  putResult(tenant: string, id: string, n: number, result: BatchResult): Promise<boolean>;
  /** Counts of the batches done so far (not their errors). */
  summary(tenant: string, id: string): Promise<JobSummary>;
  errors(tenant: string, id: string): Promise<BatchResult['errors']>;
  /** Moves the job to a final status once; answers whether this call did (so only one logs it). */
  finish(tenant: string, id: string, status: 'completed' | 'failed', at: string): Promise<boolean>;
  markProcessing(tenant: string, id: string): Promise<void>;
  /** Jobs not completed yet, every tenant (the local server resumes them at start). */
  pendingJobs(): Promise<{ tenant: string; id: string }[]>;
}

/** Many items written at once (lambdas/store/batch-writer.ts): what a request's final write is made of. */
export interface BatchWriter {
  /** The puts, then the deletes, in BatchWrites of 25, sending again what is left unprocessed; throws if some stay unwritten. */
  write(puts: Record<string, unknown>[], deletes: ItemKey[]): Promise<void>;
  /** Deletes these items (at most 25) in one BatchWrite, not sending again what is left unprocessed. */
  deleteOnce(keys: ItemKey[]): Promise<void>;
}

/** What every request handler knows about the request's tenant and caller. */
export interface TenantContext {
  tenant: string;
  config: TenantConfig;
  issuer: string;
  host: string;
  ip?: string;
  userAgent?: string;
  /** The request's auth log and final write (events, issued items, counter resets). */
  log: RequestWrites;
}

/** The body of a successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  id_token?: string;
  refresh_token?: string;
}

export interface PasswordLoginInput {
  connection: ConnectionRecord;
  username: string;
  password: string;
  clientId: string;
  clientName?: string;
}

/** What the local lookup found, handed to the upstream fallback on a miss. */
export interface LocalLookup {
  identifier: string;
  user?: UserRecord;
  password?: PasswordRecord;
  attempts: number;
  /** Recent failed attempts of the client IP across identifiers (the suspicious-IP bucket's level). */
  ipFailures?: number;
}

/**
 * Why a password was not accepted, as the log tells it: the reason and event type, and whether
 * it counts toward the lockout (a wrong password does; an upstream outage does not).
 */
export interface PasswordFailure {
  reason: string;
  logType: 'fp' | 'fu';
  countsAsFailure: boolean;
  /** Marks the failure event as one of a migration path (metric filters key on it). */
  migration?: MigrationPath;
  /** Extra facts for the failure event (e.g. the upstream error code and description). */
  details?: Record<string, unknown>;
  /** A bcrypt of this password was already spent (the upstream accepted it): no dummy compare. */
  passwordHashed?: boolean;
  /** The upstream is over its rate limit: the client may come back after this many seconds. */
  retryAfterSeconds?: number;
}

/**
 * The verdict on a password, from the local hash or the upstream fallback alike: the user it
 * belongs to (migrated or found), or why not.
 */
export type PasswordVerdict = { ok: true; user: UserRecord } | ({ ok: false } & PasswordFailure);

/** A fallback to an upstream identity provider for identifiers without a local password. */
export type PasswordFallback = ((ctx: TenantContext, input: PasswordLoginInput, local: LocalLookup) => Promise<PasswordVerdict | undefined>) & {
  /**
   * For a login whose identifier is unknown here (so only the upstream could answer it) from a
   * client IP with `ipFailures` recent failures: the Retry-After in ms if the fallback already
   * knows it would defer it at the budget, answered before any other work; else undefined.
   */
  deferral?: (ctx: TenantContext, input: PasswordLoginInput, ipFailures: number) => Promise<number | undefined>;
};

/** Answers a refresh grant whose token this service did not issue; undefined: not handled. */
export type ForeignRefreshToken = (
  ctx: TenantContext,
  p: { client: ClientRecord; refreshToken: string; scope?: string },
) => Promise<TokenResponse | undefined>;

/** Hooks around user creation (registration hooks). */
export interface RegistrationHooks {
  /** May deny the creation (throws) or return metadata to merge into the new user. */
  pre(tenant: string, user: UserRecord): Promise<Partial<Pick<UserRecord, 'app_metadata' | 'user_metadata'>> | void>;
  /** Runs after the user exists; a failure is logged by the hook runner and never fails creation. */
  post(tenant: string, user: UserRecord): Promise<void>;
}
