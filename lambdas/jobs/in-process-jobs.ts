import type { Deps } from '../deps.js';
import { createInProcessJobQueue, describeMessage, type InProcessJobQueue } from './job-queue.js';
import { pendingJobMessages } from './run-import-batch.js';
import { failJobForGood, runJob } from './run-job.js';

/**
 * Jobs for the local server: the in-process queue runs each import batch and each users export
 * after the request that queued it has been answered; a message that fails every attempt ends
 * its job `failed`. The import jobs a stopped or crashed server left unfinished are queued again
 * at start (their progress is in the table).
 */
export function createInProcessJobs(
  deps: () => Deps,
  opts: { concurrency?: number; attempts?: number } = {},
): { queue: InProcessJobQueue; resume(): void } {
  const queue = createInProcessJobQueue({
    run: (m) => runJob(deps(), m, opts),
    attempts: opts.attempts,
    onGiveUp: (m, err) => {
      deps().sink.error('job_message_abandoned', { ...describeMessage(m), error: err instanceof Error ? err.name : 'unknown' });
      void failJobForGood(deps(), m, 'attempts_exhausted').catch((e: unknown) =>
        deps().sink.warn('job not marked failed', { ...describeMessage(m), error: e instanceof Error ? e.name : 'unknown' }),
      );
    },
  });
  let resumed: Promise<unknown> = Promise.resolve();
  return {
    // Idle also waits for the jobs being resumed to be queued (and run).
    queue: { ...queue, idle: () => resumed.then(() => queue.idle()) },
    /** Queues again the import jobs a stopped or crashed server left unfinished. */
    resume() {
      resumed = pendingJobMessages(deps())
        .then((messages) => queue.send(messages))
        .catch((err: unknown) => deps().sink.warn('pending jobs not resumed', { error: err instanceof Error ? err.name : 'unknown' }));
    },
  };
}
