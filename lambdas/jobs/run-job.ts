import type { Deps } from '../deps.js';
import { isExportMessage, type JobMessage } from './job-queue.js';
import { failImportJob, runImportBatch } from './run-import-batch.js';
import { failExportJob, runUsersExport } from './users-export.js';

/** Runs one job message: a batch of an import job, or a users export. Failures throw (the queue tries again). */
export async function runJob(deps: Deps, m: JobMessage, opts: { concurrency?: number } = {}): Promise<void> {
  if (isExportMessage(m)) return runUsersExport(deps, { tenant: m.tenant, id: m.jobId });
  return runImportBatch(deps, m, opts);
}

/** A message failed for good (its last attempt, or the dead-letter queue): its job ends `failed`. */
export async function failJobForGood(deps: Deps, m: JobMessage, reason: string): Promise<void> {
  if (isExportMessage(m)) return failExportJob(deps, { tenant: m.tenant, id: m.jobId }, reason);
  return failImportJob(deps, m, reason);
}
