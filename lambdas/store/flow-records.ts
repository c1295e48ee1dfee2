/**
 * Shapes of the items the side flows keep (without pk/sk): one-time tickets, rate-limit buckets,
 * users-export jobs, log events as read, users' login statistics, users written by a bulk import,
 * the ledger of upstream refresh tokens, and bulk-import jobs with their drain counts. Apart from
 * records.ts and login-records.ts to keep each short; the ports (lambdas/ports.ts) depend on them.
 */
import type { StoredLogEvent } from '../logs/request-writes.js';
import type { UserRecord } from './records.js';

/** What a one-time link (password change or e-mail verification) was issued for. */
export interface TicketItem {
  tenant: string;
  kind: 'password_change' | 'email_verification';
  connection_id: string;
  email: string;
  /** The local user; absent when the user exists only upstream (the reset creates it). */
  user_id?: string;
  /** The upstream user's id (`auth0|…`) found by the look-up, for a user not yet migrated. */
  upstream_user_id?: string;
  client_id?: string;
  result_url?: string;
  mark_email_as_verified?: boolean;
  /** Epoch seconds; refused after (checked on read), removed by the table's TTL later. */
  expires_at: number;
  status: 'issued' | 'used';
  used_at?: number;
  ttl: number;
}

/** What using (or peeking at) a ticket came to. */
export type TicketOutcome = { outcome: 'consumed'; ticket: TicketItem } | { outcome: 'used' | 'expired' | 'missing' };

/** A rate limit: one request per `intervalMs` on average, with up to `burst` at once. */
export interface RateLimit {
  /** One request per `intervalMs` on average... */
  intervalMs: number;
  /** ...with up to `burst` at once. */
  burst: number;
}

export type RateDecision = { allowed: boolean; resetAt: number };

export type ExportJobStatus = 'pending' | 'processing' | 'completed' | 'failed';

/** One exported column: the user attribute (`email`, `user_metadata.plan`) and its name in the file. */
export interface ExportField {
  name: string;
  export_as?: string;
}

/** A users-export job, as Auth0's `/api/v2/jobs/users-exports` describes it, plus where its file is. */
export interface UsersExportJob {
  id: string;
  tenant: string;
  type: 'users_export';
  status: ExportJobStatus;
  /** Absent: every user of the tenant. */
  connection_id?: string;
  connection?: string;
  format: 'ndjson' | 'csv';
  limit?: number;
  fields: ExportField[];
  created_at: string;
  /** The file's key in the export store, once written. */
  file_key?: string;
  users_exported?: number;
  error?: string;
  /** Epoch seconds after which the job and its file are gone (the table's TTL; checked on read). */
  ttl: number;
}

/** A stored log event as the Management API shows it. */
export type LogView = Omit<StoredLogEvent, 'tenant'>;

export interface LogFilter {
  /** Any of these type codes. */
  types?: string[];
  userId?: string;
}

/**
 * The record of one upstream refresh token (key: SHA-256 of the token, never the token):
 *
 * - `redeeming`  a request holds the lease and is redeeming the token upstream;
 * - `redeemed`   the upstream accepted (and rotated) it; its answer is kept sealed so a retry
 *                completes the re-mint without calling the upstream token endpoint again;
 * - `minted`     local tokens were issued: the family id lets replays within the leeway join it;
 * - `rejected`   every source listed in `rejected_by` refused the token;
 * - `transient`  the last attempt failed for a passing reason; retried from `retry_at` on.
 *
 * Every change is a single-item conditional write: creation with `attribute_not_exists`,
 * take-overs on the `version` read before, owner writes on the owner's `lease_id`.
 */
export type UpstreamTokenStatus = 'redeeming' | 'redeemed' | 'minted' | 'rejected' | 'transient';

export interface UpstreamTokenRecord {
  tenant: string;
  token_hash: string;
  status: UpstreamTokenStatus;
  version: number;
  lease_id?: string;
  /** Epoch ms until which the lease holder owns the record. */
  lease_until?: number;
  source_id?: string;
  sealed_answer?: string;
  client_id?: string;
  user_id?: string;
  family_id?: string;
  /** The refresh token the mint issued: a replay joins the family only while it is unused. */
  refresh_token_id?: string;
  family_absolute_exp?: number;
  scope?: string;
  refresh_scope?: string;
  audience?: string;
  /** Epoch s of the mint, the start of the replay leeway. */
  minted_at?: number;
  rejected_by?: string[];
  failure?: { kind: 'rate_limited' | 'unavailable'; reason: string; retry_after?: number; queued?: boolean };
  /** Epoch ms before which a `transient` record answers with its failure again. */
  retry_at?: number;
  updated_at: number;
  /** Epoch s; checked on every read (DynamoDB deletes expired items only eventually). */
  ttl: number;
}

export type Lease = { lease_id: string; lease_until: number };

/** An imported password as it is stored: bcrypt as `hash`, any other algorithm verbatim. */
export type ImportedPassword = { hash: string } | { custom_password_hash: Record<string, unknown> };

export interface NewImportedUser {
  user: UserRecord;
  password?: ImportedPassword;
}

/**
 * A user's login statistics: written by every login (`users.recordLogin`) on an item of their
 * own in the user's partition (`sk = LOGINS`), not on the user item, which carries the listing
 * index key: updating it would write the index on every login. Read only for what the
 * Management API shows.
 */
export interface LoginStats {
  last_login?: string;
  last_ip?: string;
  logins_count: number;
}

/** The drain view of bulk imports: users imported, and how many of them have signed in here since. */
export interface ImportDrainCounts {
  imported: number;
  signed_in_since_import: number;
}

/** A user's error in an import file, as Auth0's job errors have it (`{code, message, path}`). */
export interface ImportError {
  code: string;
  message: string;
  path: string;
}

/** Where an import job is; it moves forward only. */
export type ImportJobStatus = 'pending' | 'processing' | 'completed' | 'failed';

/** A users-import job (`TENANT#t#JOB#<id>` / `JOB`, lambdas/store/jobs-repository.ts). */
export interface ImportJobRecord {
  id: string;
  type: 'users_import';
  tenant: string;
  status: ImportJobStatus;
  connection_id: string;
  connection: string;
  upsert: boolean;
  external_id?: string;
  send_completion_email: boolean;
  created_at: string;
  completed_at?: string;
  /** How many `BATCH#` items the file was cut into, and how many users it holds. */
  batches: number;
  total: number;
}

/** What an import job's worker made of one batch of the file. */
export interface BatchResult {
  inserted: number;
  updated: number;
  failed: number;
  errors: { user: unknown; errors: ImportError[] }[];
}

export interface JobSummary {
  inserted: number;
  updated: number;
  failed: number;
  total: number;
  /** Batches with a result. */
  done: number;
}
