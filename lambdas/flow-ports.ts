/**
 * The ports of the side flows' stores (tickets, rate limits, export jobs, logs, the upstream token
 * ledger, import slots and writes, user listings), as types over store/flow-records.ts and
 * store/records.ts. Kept apart from ports.ts, which re-exports them, to keep each short.
 */
import type { ItemKey, PasswordRecord, UserRecord } from './store/records.js';
import type {
  ExportJobStatus,
  ImportedPassword,
  Lease,
  LoginStats,
  LogFilter,
  LogView,
  NewImportedUser,
  RateDecision,
  RateLimit,
  TicketItem,
  TicketOutcome,
  UpstreamTokenRecord,
  UsersExportJob,
} from './store/flow-records.js';

/**
 * One-time tickets (password change, e-mail verification), stored under the SHA-256 of their
 * secret (lambdas/store/tickets-repository.ts). Using one is a single conditional update.
 */
export interface TicketsStore {
  get(tenant: string, hash: string): Promise<TicketItem | undefined>;
  put(hash: string, item: TicketItem): Promise<void>;
  /** The ticket if it can still be used (issued, not expired), without using it. */
  peek(tenant: string, hash: string, nowSeconds: number): Promise<TicketOutcome>;
  /** Uses the ticket: of two calls for the same ticket exactly one gets it. */
  consume(tenant: string, hash: string, nowSeconds: number): Promise<TicketOutcome>;
}

/** Token buckets per key, fleet-wide (GCRA, lambdas/store/rate-limit-repository.ts): each take is one conditional update. */
export interface RateLimitsStore {
  take(key: ItemKey, limit: RateLimit, nowMs: number): Promise<RateDecision>;
}

/** Users-export jobs, one item each (lambdas/store/export-jobs-repository.ts); a job's status moves forward only. */
export interface ExportJobsStore {
  create(job: UsersExportJob): Promise<void>;
  /** The job, unless it has expired (checked on read). */
  get(tenant: string, id: string, nowSeconds: number): Promise<UsersExportJob | undefined>;
  /** Moves the job from one of `from` to `to` (with `set`); false when it was in none of them. */
  transition(tenant: string, id: string, from: ExportJobStatus[], to: ExportJobStatus, set?: Partial<Pick<UsersExportJob, 'file_key' | 'users_exported' | 'error'>>): Promise<boolean>;
}

/** The tenant's log events as read back (lambdas/store/logs-repository.ts): day-sharded partitions, at most LOG_RETENTION_DAYS back. */
export interface LogsStore {
  get(tenant: string, logId: string, nowMs: number): Promise<LogView | undefined>;
  /** Up to `max` events matching `filter`, newest first unless `oldestFirst`. */
  list(tenant: string, filter: LogFilter, max: number, nowMs: number, oldestFirst?: boolean): Promise<LogView[]>;
  /** Up to `take` events after `fromId`, oldest first (checkpoint paging). */
  after(tenant: string, fromId: string, take: number, nowMs: number): Promise<LogView[]>;
}

/**
 * The ledger of upstream refresh tokens (lambdas/store/upstream-token-repository.ts), keyed by the
 * token's hash. Every change is a single-item conditional write.
 */
export interface UpstreamTokensStore {
  /** The item to write for a record (in the request's final BatchWrite). */
  item(r: UpstreamTokenRecord): ItemKey & Record<string, unknown>;
  get(tenant: string, hash: string): Promise<UpstreamTokenRecord | undefined>;
  /** Creates the record; false when one exists already. */
  create(r: UpstreamTokenRecord): Promise<boolean>;
  /** Creates the record, or takes over a `transient` one whose retry is due: `before` is what it replaced; undefined when neither. */
  createOrTakeOverDueRetry(r: UpstreamTokenRecord & Lease, now: number): Promise<{ before?: UpstreamTokenRecord } | undefined>;
  /** Replaces a record read at `seenVersion` (a take-over); false when it changed meanwhile. */
  replace(r: UpstreamTokenRecord, seenVersion: number): Promise<boolean>;
  /** An owner's write: applies only while `leaseId` still owns the record. */
  updateAsOwner(tenant: string, hash: string, leaseId: string, fields: Partial<UpstreamTokenRecord>): Promise<boolean>;
}

/** The tenant's active import job slots, fleet-wide (lambdas/store/import-slots-repository.ts): Auth0's limit of active import jobs. */
export interface ImportSlotsStore {
  /** Takes a slot for `jobId` (taking over one whose job has ended or never appeared); false when every slot holds an active job. */
  take(tenant: string, jobId: string, jobStatus: (id: string) => Promise<string | undefined>): Promise<boolean>;
  /** Gives back the slot a job holds (when it ends, or when it could not be created). */
  release(tenant: string, jobId: string): Promise<void>;
}

/** The writes of a bulk import (lambdas/store/imported-users-repository.ts): batched reads and writes of users new to the table. */
export interface ImportedUsersStore {
  /** The user and password items of these users (consistent reads; every key answered or it throws). */
  readForImport(tenant: string, userIds: string[]): Promise<Map<string, { user?: UserRecord; password?: PasswordRecord }>>;
  /** Writes users that did not exist, with their imported passwords, in BatchWrites; a store failure throws. */
  writeNewUsers(users: NewImportedUser[], at: string): Promise<void>;
  /** Stores an imported password unless the user has a local one (a password set here always wins). */
  putImportedPassword(tenant: string, userId: string, password: ImportedPassword, at: string): Promise<void>;
}

/** The tenant's users as the Management API lists and exports them (lambdas/store/users-index.ts, login-stats.ts). */
export interface UsersListingStore {
  /** Users matching `accept`, in user_id order, at most `max`. */
  find(tenant: string, accept: (u: UserRecord) => boolean, max: number): Promise<UserRecord[]>;
  /** The same users as `find`, `size` at a time, read only as far as the caller goes. */
  pages(tenant: string, accept: (u: UserRecord) => boolean, max: number, size: number): AsyncGenerator<UserRecord[]>;
  /** The login statistics of these users: user_id → statistics. */
  loginStats(tenant: string, userIds: string[]): Promise<Map<string, LoginStats>>;
}
