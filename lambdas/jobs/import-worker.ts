import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Deps } from '../deps.js';
import { parseJobMessage } from './job-queue.js';
import { runImportBatch } from './run-import-batch.js';

/**
 * The worker Lambda's handler: each SQS record is one batch of an import job. A batch that
 * fails (a store error) is reported in `batchItemFailures`, so SQS delivers only it again and
 * the other records of the event are not repeated; after the queue's maxReceiveCount it goes to
 * the dead-letter queue, and the job stays `processing` until the message is redriven. A record
 * that is no job message is dropped (logged): retrying it could never succeed.
 */
export function createImportWorker(deps: Deps, opts: { concurrency?: number } = {}) {
  return async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const message = parseJobMessage(record.body);
      if (!message) {
        deps.sink.error('job_message_unreadable', { message_id: record.messageId });
        continue;
      }
      try {
        await runImportBatch(deps, message, opts);
      } catch (err) {
        deps.sink.warn('job_batch_failed', {
          tenant: message.tenant,
          job_id: message.jobId,
          batch: message.batch,
          error: err instanceof Error ? err.name : 'unknown',
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
