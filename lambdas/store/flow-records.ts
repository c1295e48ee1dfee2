/**
 * Shapes of the items the side flows keep (without pk/sk): one-time tickets, rate-limit buckets, users-export jobs, log events as read, ... Apart from
 * records.ts and login-records.ts to keep each short; the ports (lambdas/ports.ts) depend on them.
 */
import type { StoredLogEvent } from '../logs/request-writes.js';

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
