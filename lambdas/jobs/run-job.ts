import { isExportMessage, type JobMessage } from './job-queue.js';
import { failImportJob, runImportBatch, type ImportBatchDeps, type ImportJobEndDeps } from './run-import-batch.js';
import { failExportJob, runUsersExport, type UsersExportDeps, type ExportJobEndDeps } from './users-export.js';

export type JobDeps = ImportBatchDeps & UsersExportDeps;

/** Runs one job message: a batch of an import job, or a users export. Failures throw (the queue tries again). */
export async function runJob(deps: JobDeps, m: JobMessage, opts: { concurrency?: number } = {}): Promise<void> {
  if (isExportMessage(m)) return runUsersExport(deps, { tenant: m.tenant, id: m.jobId });
  return runImportBatch(deps, m, opts);
}

/** A message failed for good (its last attempt, or the dead-letter queue): its job ends `failed`. */
export async function failJobForGood(deps: ImportJobEndDeps & ExportJobEndDeps, m: JobMessage, reason: string): Promise<void> {
  if (isExportMessage(m)) return failExportJob(deps, { tenant: m.tenant, id: m.jobId }, reason);
  return failImportJob(deps, m, reason);
}
