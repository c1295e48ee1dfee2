import { createAwsDeps } from '../aws-deps.js';
import { awsJobs } from '../jobs/aws-jobs.js';
import { createJobWorker } from '../jobs/import-worker.js';

/** Lambda entry of the job worker: the SQS queue of bulk-import batches and users exports, and its dead-letter queue. */
const deps = createAwsDeps('auth-import-worker', (d) => ({ ...d, jobs: awsJobs() }));
export const handler = createJobWorker(deps, { deadLetterQueueArn: process.env.JOB_DEAD_LETTER_QUEUE_ARN || undefined });
