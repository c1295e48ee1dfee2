import type { Deps } from '../deps.js';
import { createInProcessJobQueue, type InProcessJobQueue } from './job-queue.js';
import { pendingJobMessages, runImportBatch } from './run-import-batch.js';

/**
 * Jobs for the local server: the in-process queue runs each batch after the request that
 * queued it has been answered, and the jobs a stopped or crashed server left unfinished are
 * queued again at start (their progress is in the table).
 */
export function attachInProcessJobs(deps: Deps, opts: { concurrency?: number } = {}): InProcessJobQueue {
  const queue = createInProcessJobQueue({
    run: (m) => runImportBatch(deps, m, opts),
    onGiveUp: (m, err) =>
      deps.sink.error('job_batch_abandoned', { tenant: m.tenant, job_id: m.jobId, batch: m.batch, error: err instanceof Error ? err.name : 'unknown' }),
  });
  deps.jobQueue = queue;
  void pendingJobMessages(deps)
    .then((messages) => queue.send(messages))
    .catch((err: unknown) => deps.sink.warn('pending jobs not resumed', { error: err instanceof Error ? err.name : 'unknown' }));
  return queue;
}
