import type { Deps } from '../deps.js';
import { createRequestWrites } from '../logs/request-writes.js';
import { sendImportCompletionEmail, type ImportCompletionEmailDeps } from './import-completion-email.js';
import { importUsers, type ImportJobContext, type ImportUsersDeps } from './import-user.js';
import { userForErrorReport } from './import-user-schema.js';
import type { ImportBatchMessage } from './job-queue.js';
import type { BatchResult, ImportJobRecord } from '../store/flow-records.js';

/** Users of one batch claimed (and, when they exist, imported one by one) at the same time. */
const DEFAULT_CONCURRENCY = 16;

/** What ending an import job reads and writes: the job, its slot, its log and the completion e-mail. */
export type ImportJobEndDeps = Pick<Deps, 'importJobs' | 'importSlots' | 'batchWriter' | 'now' | 'sink'> & ImportCompletionEmailDeps;
export type ImportBatchDeps = ImportUsersDeps & ImportJobEndDeps & Pick<Deps, 'importCounters'>;

/** Imported users are written as they are: the batch hands it no registration hooks (`registrationHooks: undefined`). */
async function importAll(deps: ImportUsersDeps & Pick<Deps, 'registrationHooks'>, job: ImportJobContext, users: unknown[], concurrency: number): Promise<BatchResult> {
  const outcomes = await importUsers(deps, job, users, { concurrency });
  const result: BatchResult = { inserted: 0, updated: 0, failed: 0, errors: [] };
  outcomes.forEach((o, i) => {
    if (o.kind === 'inserted') result.inserted++;
    else if (o.kind === 'updated') result.updated++;
    else {
      result.failed++;
      result.errors.push({ user: userForErrorReport(users[i]), errors: o.errors });
    }
  });
  return result;
}

/**
 * Ends the job once (answers whether this call did), then gives back its slot among the tenant's
 * active import jobs. A crash in between leaves a slot whose job has ended: the next job takes it over.
 */
async function finishJob(deps: Pick<Deps, 'importSlots' | 'importJobs' | 'now'>, m: ImportBatchMessage, status: 'completed' | 'failed'): Promise<boolean> {
  if (!(await deps.importJobs.finish(m.tenant, m.jobId, status, new Date(deps.now()).toISOString()))) return false;
  await deps.importSlots.release(m.tenant, m.jobId);
  return true;
}

async function logJobEnd(deps: Pick<Deps, 'batchWriter' | 'now' | 'sink'>, job: ImportJobRecord, type: 'sui' | 'fui', details: Record<string, unknown>) {
  const log = createRequestWrites({ batchWriter: deps.batchWriter, sink: deps.sink, now: deps.now, tenant: job.tenant });
  log.add({
    type,
    description: type === 'sui' ? 'Users import job completed' : 'Users import job failed',
    connection: job.connection,
    connection_id: job.connection_id,
    strategy: 'auth0',
    details: { job_id: job.id, ...(job.external_id ? { external_id: job.external_id } : {}), ...details },
  });
  await log.flush();
}

/**
 * Runs one batch of an import job: every user of it, then its result, then (the last batch)
 * the job's completion and its `sui` log. A batch that already has a result is not run again;
 * one that failed half-way is run again whole (every user write is idempotent). Store failures
 * throw, so the queue tries the batch again; a user's own errors are in the result.
 */
export async function runImportBatch(deps: ImportBatchDeps, m: ImportBatchMessage, opts: { concurrency?: number } = {}): Promise<void> {
  const jobs = deps.importJobs;
  const job = await jobs.getJob(m.tenant, m.jobId);
  if (!job || job.status === 'completed' || job.status === 'failed') return;
  if (!(await jobs.hasResult(m.tenant, m.jobId, m.batch))) {
    await jobs.markProcessing(m.tenant, m.jobId);
    const config = await deps.tenantConfigs.load(m.tenant);
    const connection = config?.connections.get(job.connection_id);
    if (!connection) {
      if (await finishJob(deps, m, 'failed')) {
        await logJobEnd(deps, job, 'fui', { reason: 'connection_not_found' });
        await sendImportCompletionEmail(deps, job, { status: 'failed' });
      }
      return;
    }
    const text = await jobs.getBatch(m.tenant, m.jobId, m.batch);
    const users = text ? (JSON.parse(text) as unknown[]) : [];
    const ctx: ImportJobContext = { tenant: m.tenant, jobId: m.jobId, connection, upsert: job.upsert, externalId: job.external_id };
    const result = await importAll({ ...deps, registrationHooks: undefined }, ctx, users, opts.concurrency ?? DEFAULT_CONCURRENCY);
    if (await jobs.putResult(m.tenant, m.jobId, m.batch, result)) {
      await deps.importCounters
        .countImported(m.tenant, result.inserted)
        .catch((err: unknown) => deps.sink.warn('imported users not counted', { tenant: m.tenant, error: (err as Error)?.name ?? 'unknown' }));
    }
  }
  const summary = await jobs.summary(m.tenant, m.jobId);
  if (summary.done < job.batches) return;
  if (await finishJob(deps, m, 'completed')) {
    const { done: _d, ...counts } = summary;
    await logJobEnd(deps, job, 'sui', { summary: counts });
    await sendImportCompletionEmail(deps, job, { status: 'completed', summary: counts });
  }
}

/**
 * Ends an import job `failed` when one of its batches failed for good (its last delivery, or
 * the dead-letter queue): the job never stays `processing`. Logged `fui` once.
 */
export async function failImportJob(deps: ImportJobEndDeps, m: ImportBatchMessage, reason: string): Promise<void> {
  const jobs = deps.importJobs;
  const job = await jobs.getJob(m.tenant, m.jobId);
  if (!job) return;
  if (await finishJob(deps, m, 'failed')) {
    await logJobEnd(deps, job, 'fui', { reason, batch: m.batch });
    const { done: _d, ...counts } = await jobs.summary(m.tenant, m.jobId);
    await sendImportCompletionEmail(deps, job, { status: 'failed', summary: counts });
  }
}

/** Queues the batches of jobs a crash left unfinished (the local server calls it at start). */
export async function pendingJobMessages(deps: Pick<Deps, 'importJobs'>): Promise<ImportBatchMessage[]> {
  const jobs = deps.importJobs;
  const messages: ImportBatchMessage[] = [];
  for (const { tenant, id } of await jobs.pendingJobs()) {
    const job = await jobs.getJob(tenant, id);
    if (!job || job.status === 'completed' || job.status === 'failed') continue;
    for (let n = 0; n < job.batches; n++) {
      if (!(await jobs.hasResult(tenant, id, n))) messages.push({ tenant, jobId: id, batch: n });
    }
    // A job whose batches all have results but that was not marked completed: its last batch completes it.
    if (job.batches > 0 && messages.every((msg) => msg.jobId !== id)) messages.push({ tenant, jobId: id, batch: job.batches - 1 });
  }
  return messages;
}
