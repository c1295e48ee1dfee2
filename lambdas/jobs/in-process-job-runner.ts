import type { JobRef, JobRunner } from './job-ports.js';

/**
 * Runs jobs in this process after the request that enqueued them has answered (`npm start`,
 * tests). `idle()` resolves once every job enqueued so far has ended.
 */
export function createInProcessJobRunner(run: (job: JobRef) => Promise<void>): JobRunner & { idle(): Promise<void> } {
  const running = new Set<Promise<void>>();
  return {
    async enqueue(job) {
      const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => run(job))
        .catch(() => {})
        .finally(() => running.delete(p));
      running.add(p);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
