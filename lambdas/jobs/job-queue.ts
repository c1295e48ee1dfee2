/**
 * The port between the endpoints that accept jobs and the worker that runs them: one message
 * per batch of an import job's file, one per users-export job. In AWS an SQS queue feeds the
 * worker Lambda (sqs-job-queue.ts); locally the jobs run in the server's own process, after the
 * request has been answered.
 */
export interface ImportBatchMessage {
  tenant: string;
  jobId: string;
  batch: number;
}

export interface ExportJobMessage {
  tenant: string;
  jobId: string;
  type: 'users_export';
}

export type JobMessage = ImportBatchMessage | ExportJobMessage;

export const isExportMessage = (m: JobMessage): m is ExportJobMessage => 'type' in m && m.type === 'users_export';

/** What a log line says of a message. */
export const describeMessage = (m: JobMessage) =>
  isExportMessage(m) ? { tenant: m.tenant, job_id: m.jobId, type: m.type } : { tenant: m.tenant, job_id: m.jobId, batch: m.batch };

export interface JobQueue {
  send(messages: JobMessage[]): Promise<void>;
}

export function parseJobMessage(body: string): JobMessage | undefined {
  try {
    const m = JSON.parse(body) as Partial<ImportBatchMessage & { type: string }>;
    if (typeof m.tenant !== 'string' || typeof m.jobId !== 'string') return undefined;
    if (m.type === 'users_export') return { tenant: m.tenant, jobId: m.jobId, type: 'users_export' };
    if (m.type === undefined && Number.isInteger(m.batch) && (m.batch as number) >= 0) return { tenant: m.tenant, jobId: m.jobId, batch: m.batch as number };
  } catch {
    /* not a job message */
  }
  return undefined;
}

export interface InProcessJobQueue extends JobQueue {
  /** Resolves when every message sent so far has been handled (tests, benches, shutdown). */
  idle(): Promise<void>;
  /** Stops taking messages; what runs finishes. */
  stop(): Promise<void>;
}

/**
 * The local queue: messages run one after the other in this process, outside the request that
 * sent them. A failed message is tried again (`attempts` in all, as SQS's redrive would), then
 * reported to `onGiveUp` (which ends the job `failed`, as the dead-letter queue does in AWS).
 */
export function createInProcessJobQueue(p: {
  run: (m: JobMessage) => Promise<void>;
  attempts?: number;
  onGiveUp?: (m: JobMessage, err: unknown) => void;
}): InProcessJobQueue {
  const queue: JobMessage[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;
  const attempts = p.attempts ?? 3;

  async function drain(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const m = queue.shift()!;
      for (let attempt = 1; ; attempt++) {
        try {
          await p.run(m);
          break;
        } catch (err) {
          if (attempt >= attempts || stopped) {
            p.onGiveUp?.(m, err);
            break;
          }
          await new Promise((r) => setTimeout(r, 50 * attempt));
        }
      }
    }
  }

  function kick() {
    if (running) return;
    running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(drain)
      .finally(() => {
        running = undefined;
        if (queue.length > 0 && !stopped) kick();
      });
  }

  return {
    async send(messages) {
      if (stopped) return;
      queue.push(...messages);
      kick();
    },
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      queue.length = 0;
      while (running) await running;
    },
  };
}
