import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobMessage, JobQueue } from './job-queue.js';

/** The job queue in AWS: one SQS message per batch, sent ten at a time; failed entries are sent again. */
export function createSqsJobQueue(p: { client: SQSClient; queueUrl: string }): JobQueue {
  return {
    async send(messages: JobMessage[]) {
      for (let i = 0; i < messages.length; i += 10) {
        let entries = messages.slice(i, i + 10).map((m, k) => ({ Id: String(i + k), MessageBody: JSON.stringify(m) }));
        for (let attempt = 0; entries.length > 0; attempt++) {
          if (attempt >= 3) throw new Error(`${entries.length} job messages could not be queued`);
          const res = await p.client.send(new SendMessageBatchCommand({ QueueUrl: p.queueUrl, Entries: entries }));
          const failed = new Set((res.Failed ?? []).map((f) => f.Id));
          entries = entries.filter((e) => failed.has(e.Id));
        }
      }
    },
  };
}

/** The SQS job queue named by `JOB_QUEUE_URL` (the management function in AWS), if any. */
export function sqsJobQueueFromEnv(client: SQSClient, env: NodeJS.ProcessEnv = process.env): JobQueue | undefined {
  return env.JOB_QUEUE_URL ? createSqsJobQueue({ client, queueUrl: env.JOB_QUEUE_URL }) : undefined;
}
