/**
 * The port between the endpoint that accepts a job and the worker that runs it: one message
 * per batch of the job's file. In AWS an SQS queue feeds the worker Lambda (sqs-job-queue.ts);
 * locally the batches run in the server's own process, after the request has been answered.
 */
export interface JobMessage {
  tenant: string;
  jobId: string;
  batch: number;
}

export interface JobQueue {
  send(messages: JobMessage[]): Promise<void>;
}

export function parseJobMessage(body: string): JobMessage | undefined {
  try {
    const m = JSON.parse(body) as Partial<JobMessage>;
    if (typeof m.tenant === 'string' && typeof m.jobId === 'string' && Number.isInteger(m.batch) && (m.batch as number) >= 0) {
      return { tenant: m.tenant, jobId: m.jobId, batch: m.batch as number };
    }
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
 * reported to `onGiveUp`; the job's progress is in the table, so a restart resumes it.
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
