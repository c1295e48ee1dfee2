import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describeMessage, parseJobMessage } from './job-queue.js';
import { failJobForGood, runJob, type JobDeps } from './run-job.js';

/**
 * The job worker Lambda's handler: each SQS record is one batch of an import job or one users
 * export. A record that fails (a store error) is reported in `batchItemFailures`, so SQS
 * delivers only it again and the other records of the event are not repeated; after the queue's
 * maxReceiveCount it goes to the dead-letter queue, which feeds this worker too: a record from
 * there (`deadLetterQueueArn`) ends its job `failed`, so no job stays `processing` after its
 * worker failed for good (even by a timeout or a crash). A record that is no job message is
 * dropped (logged): retrying it could never succeed.
 */
export function createJobWorker(deps: JobDeps, opts: { concurrency?: number; deadLetterQueueArn?: string } = {}) {
  return async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const message = parseJobMessage(record.body);
      if (!message) {
        deps.sink.error('job_message_unreadable', { message_id: record.messageId });
        continue;
      }
      const deadLettered = opts.deadLetterQueueArn !== undefined && record.eventSourceARN === opts.deadLetterQueueArn;
      try {
        if (deadLettered) await failJobForGood(deps, message, 'dead_lettered');
        else await runJob(deps, message, opts);
      } catch (err) {
        deps.sink.warn('job_message_failed', { ...describeMessage(message), dead_lettered: deadLettered, error: err instanceof Error ? err.name : 'unknown' });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
