import { monotonicFactory } from 'ulid';
import { keys } from '../store/keys.js';
import { logPartitionOf } from '../store/logs-repository.js';
import type { LogSink } from './log-sink.js';
import type { BatchWriter } from '../ports.js';
import type { MigrationCountersRepository } from '../store/migration-counters-repository.js';
import { logTypes, type LogType, type MigrationPath } from './log-types.js';
import { migrationAttemptOf, UPSTREAM_VERIFIED_OUTCOMES, type MigrationAttempt } from './migration-outcome.js';

const LOG_RETENTION_SECONDS = 30 * 24 * 3600;
const nextUlid = monotonicFactory();

export interface AuthEvent {
  type: LogType;
  description?: string;
  client_id?: string;
  client_name?: string;
  user_id?: string;
  user_name?: string;
  connection?: string;
  connection_id?: string;
  strategy?: string;
  ip?: string;
  user_agent?: string;
  migration?: MigrationPath;
  /** Machine-readable reason of a failure (never a secret or a password). */
  reason?: string;
  details?: Record<string, unknown>;
}

export interface StoredLogEvent extends AuthEvent, Partial<MigrationAttempt> {
  log_id: string;
  date: string;
  tenant: string;
  strategy_type?: string;
}

/**
 * What one request writes, gathered for its single final BatchWrite: the auth log events (each
 * also printed at once as a JSON line), the items the request creates (refresh tokens, families,
 * handed to `flush`) and the items it deletes (`deleteOnFlush`: a lockout counter reset after a
 * right password). Request handlers reach it as `ctx.log`. Nothing here ever receives a password
 * or a token.
 */
export function createRequestWrites(deps: {
  /** Where the final write goes (lambdas/store/batch-writer.ts). */
  batchWriter: BatchWriter;
  sink: LogSink;
  now: () => number;
  tenant: string;
  ip?: string;
  userAgent?: string;
  /** Where each migration attempt is counted by day, path and outcome (the drain figures). */
  migrationCounters?: Pick<MigrationCountersRepository, 'countAttempt' | 'recordUpstreamVerification'>;
}) {
  const counting: Promise<unknown>[] = [];
  const pending: Record<string, unknown>[] = [];
  const pendingDeletes: { pk: string; sk: string }[] = [];
  const events: StoredLogEvent[] = [];

  /**
   * Queues an event for the final write. `countsMigration`: the event is a migration that
   * succeeded, and its attempt's count also counts the migration (one counter write, not two);
   * false if there is no attempt to count it with (the caller counts it itself then).
   */
  function add(event: AuthEvent, opts: { countsMigration?: boolean } = {}): StoredLogEvent & { migrationCounted?: boolean } {
    const { stored, item, at } = prepare(event);
    const migrationCounted = publish(stored, at, opts.countsMigration);
    pending.push(item);
    return opts.countsMigration ? { ...stored, migrationCounted } : stored;
  }

  /**
   * An event stored with the request's final write before it is known to hold (the write runs
   * alongside the step that decides it): its line is printed and it counts only once
   * `confirm`ed; `withdraw` deletes its item with the next flush instead.
   */
  function addTentative(event: AuthEvent): { confirm(): StoredLogEvent; withdraw(): void } {
    const { stored, item, at } = prepare(event);
    pending.push(item);
    return {
      confirm: () => {
        publish(stored, at);
        return stored;
      },
      withdraw: () => {
        const queued = pending.indexOf(item);
        if (queued >= 0) pending.splice(queued, 1);
        // Deleted even if a failed flush may not have written it: deleting nothing is harmless.
        pendingDeletes.push({ pk: String(item.pk), sk: String(item.sk) });
      },
    };
  }

  function publish(stored: StoredLogEvent, at: number, countsMigration = false): boolean {
    events.push(stored);
    deps.sink.info('auth_event', { ...stored });
    const day = stored.date.slice(0, 10);
    if (!stored.migration_outcome || !stored.migration) return false;
    return countAttempt(day, stored.migration, stored.migration_outcome, at, countsMigration);
  }

  function prepare(event: AuthEvent): { stored: StoredLogEvent; item: Record<string, unknown>; at: number } {
    const at = deps.now();
    const stored: StoredLogEvent = {
      description: logTypes[event.type],
      ip: deps.ip,
      user_agent: deps.userAgent,
      ...event,
      log_id: nextUlid(at),
      date: new Date(at).toISOString(),
      tenant: deps.tenant,
      strategy_type: event.strategy ? 'database' : undefined,
      ...migrationAttemptOf(event),
    };
    const item = {
      pk: logPartitionOf(deps.tenant, stored.date.slice(0, 10), stored.log_id),
      sk: stored.log_id,
      ...(stored.user_id ? { gsi1pk: keys.logsOfUser(deps.tenant, stored.user_id), gsi1sk: stored.log_id } : {}),
      ttl: Math.floor(at / 1000) + LOG_RETENTION_SECONDS,
      ...stored,
    };
    return { stored, item, at };
  }

  /** Started at once, awaited by the next flush: a lost count only makes a drain figure a little low. */
  function countAttempt(day: string, path: MigrationPath, outcome: MigrationAttempt['migration_outcome'], at: number, alsoMigrated: boolean): boolean {
    const counters = deps.migrationCounters;
    if (!counters) return false;
    const writes = [counters.countAttempt(deps.tenant, day, path, outcome, alsoMigrated ? { alsoMigrated } : undefined)];
    if (UPSTREAM_VERIFIED_OUTCOMES.includes(outcome)) writes.push(counters.recordUpstreamVerification(deps.tenant, path, at));
    counting.push(
      Promise.all(writes).catch((err: unknown) =>
        deps.sink.warn('migration attempt not counted', { tenant: deps.tenant, path, outcome, error: (err as Error)?.name ?? 'unknown' }),
      ),
    );
    return alsoMigrated;
  }

  /**
   * Writes the pending events plus `extraItems`, and deletes the keys queued with
   * `deleteOnFlush`, with as few BatchWrite calls as possible. What is queued stays queued
   * until it is written, so a failed flush can be repeated (the writes are idempotent).
   */
  async function flush(extraItems: Record<string, unknown>[] = []): Promise<void> {
    // The counts (never failing) are written alongside, not before: one round trip, not two.
    const counted = Promise.all(counting.splice(0));
    await Promise.all([writeQueued(extraItems), counted]);
  }

  async function writeQueued(extraItems: Record<string, unknown>[]): Promise<void> {
    const queued = { puts: pending.length, deletes: pendingDeletes.length };
    await deps.batchWriter.write([...extraItems, ...pending], [...pendingDeletes]);
    pending.splice(0, queued.puts);
    pendingDeletes.splice(0, queued.deletes);
  }

  /** Writes only the queued deletes: what a request that failed after a success still owes. */
  async function flushDeletes(): Promise<void> {
    if (pendingDeletes.length === 0) return;
    await deps.batchWriter.deleteOnce(pendingDeletes.splice(0, 25));
  }

  /** Deletes an item with the request's final write (e.g. a lockout counter after a success). */
  function deleteOnFlush(key: { pk: string; sk: string }) {
    pendingDeletes.push(key);
  }

  return { add, addTentative, flush, flushDeletes, deleteOnFlush, events };
}

export type RequestWrites = ReturnType<typeof createRequestWrites>;
