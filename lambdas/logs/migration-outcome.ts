import type { MigrationPath } from './log-types.js';

/**
 * What one migration attempt did with the upstream, the drain signal's `outcome`:
 * - `migrated`: the upstream verified the user (password or refresh token) and the user was served;
 * - `verified_not_migrated`: the upstream verified the user but the local side refused
 *   (identifier conflict, hook, blocked user): the upstream is still needed for this user;
 * - `upstream_rejected`: the upstream was asked and said no (wrong or unknown password, dead token);
 * - `upstream_unavailable`: the upstream was asked and did not answer usefully (timeout, 5xx, 429);
 * - `not_called`: the upstream was not asked (open breaker, budget spent, replay, misconfiguration).
 *
 * Only the first two mean the upstream is still in use: the "safe to switch off" signal counts them.
 */
export const MIGRATION_OUTCOMES = [
  'migrated',
  'verified_not_migrated',
  'upstream_rejected',
  'upstream_unavailable',
  'not_called',
] as const;
export type MigrationOutcome = (typeof MIGRATION_OUTCOMES)[number];

/** The outcomes that prove the upstream verified a user: the drain must see none of them for N days. */
export const UPSTREAM_VERIFIED_OUTCOMES: readonly MigrationOutcome[] = ['migrated', 'verified_not_migrated'];

/** The drain fields added to an auth event that records one migration attempt. */
export interface MigrationAttempt {
  migration_outcome: MigrationOutcome;
  /** The connection (password fallback) or migration source (re-mint); `none` when unknown. */
  migration_source: string;
}

interface MigrationEvent {
  type: string;
  migration?: MigrationPath;
  reason?: string;
  connection?: string;
  details?: Record<string, unknown>;
}

/** Reasons for which the upstream was never asked on this request. */
const NOT_CALLED = new Set([
  'upstream_not_configured',
  'upstream_circuit_open',
  'upstream_budget_exhausted',
  'upstream_insecure_endpoint',
  'circuit_open',
  'budget_exhausted',
  'insecure_endpoint',
  'secret_missing',
  'secret_unreadable',
  'redemption_in_progress',
  'client_mismatch',
  'migration_source_removed',
  'upstream_answer_unreadable',
  'malformed_refresh_token',
  'client_not_bound_to_source',
]);
/** Reasons for which the upstream answered but gave nothing usable. */
const UNAVAILABLE = new Set(['rate_limited', 'timeout', 'network', 'server_error', 'malformed_response', 'unexpected_status', 'unknown']);
/** Reasons after the upstream verified the user: the local side refused. */
const VERIFIED_THEN_REFUSED = new Set([
  'email_conflict',
  'username_conflict',
  'user_creation_failed',
  'local_password_mismatch',
  'user_blocked',
  'denied_by_hook',
  'hook_unavailable',
  'internal_error',
  'upstream_mismatch',
]);

/**
 * The drain fields of an auth event, or undefined when the event is not the one line that
 * records a migration attempt (each attempt has exactly one: `ss` or a failure for the password
 * fallback, whose later `s`/`sepft` lines repeat the path; `sertft` or `fertft` for the re-mint;
 * `scp` for a reset that migrated an upstream-only user).
 */
export function migrationAttemptOf(event: MigrationEvent): MigrationAttempt | undefined {
  if (!event.migration) return undefined;
  const outcome = outcomeOf(event, event.migration);
  if (!outcome) return undefined;
  return { migration_outcome: outcome, migration_source: sourceOf(event, event.migration) };
}

/**
 * A social first sign-in: the provider vouched for the user; the upstream only matters when it
 * was asked for the user's metadata and roles. `found` means the upstream still holds data a
 * social user who has not signed in yet would lose: it counts as an upstream verification.
 */
const SOCIAL_UPSTREAM: Record<string, MigrationOutcome> = { found: 'migrated', absent: 'upstream_rejected', not_asked: 'not_called' };

function outcomeOf(event: MigrationEvent, path: MigrationPath): MigrationOutcome | undefined {
  const details = event.details ?? {};
  // A reset that created an upstream-only user: the upstream's look-up found it, the new password migrated it.
  if (path === 'password_reset') return event.type === 'scp' ? 'migrated' : undefined;
  if (path === 'social') {
    if (event.type === 's') return SOCIAL_UPSTREAM[String(details.upstream_user)] ?? 'not_called';
    if (event.type !== 'f' || !event.reason) return undefined;
  } else if (path === 'password_fallback') {
    if (event.type === 'ss') return 'migrated';
    if (!event.reason) return undefined;
  } else {
    if (details.replay || details.concurrent || details.recently) return 'not_called';
    if (event.type === 'sertft') return 'migrated';
    if (event.type !== 'fertft' || !event.reason) return undefined;
  }
  return outcomeOfReason(event.reason!);
}

function outcomeOfReason(reason: string): MigrationOutcome {
  if (reason.startsWith('upstream_rejected') || reason === 'rejected_by_all_sources' || reason === 'invalid_grant') {
    return 'upstream_rejected';
  }
  if (NOT_CALLED.has(reason)) return 'not_called';
  if (VERIFIED_THEN_REFUSED.has(reason) || reason.startsWith('hook_')) return 'verified_not_migrated';
  if (UNAVAILABLE.has(reason) || reason.startsWith('upstream_')) return 'upstream_unavailable';
  return 'upstream_unavailable';
}

function sourceOf(event: MigrationEvent, path: MigrationPath): string {
  const raw = path === 'password_fallback' || path === 'social' || path === 'password_reset' ? event.connection : (event.details?.migration_source ?? onlySourceOf(event.details?.sources));
  return typeof raw === 'string' && raw !== '' ? raw.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) : 'none';
}

/** A re-mint failure names the sources it asked; with one source, that one is the dimension. */
function onlySourceOf(sources: unknown): string | undefined {
  if (!sources || typeof sources !== 'object') return undefined;
  const ids = Object.keys(sources);
  return ids.length === 1 ? ids[0] : ids.length > 1 ? 'several' : undefined;
}
