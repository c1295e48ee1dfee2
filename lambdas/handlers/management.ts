import { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsDeps } from '../aws-deps.js';
import { correlateRequests } from '../logs/log-sink.js';
import { withRegistrationHooks } from '../compose.js';
import { awsJobs } from '../jobs/aws-jobs.js';
import { sqsJobQueueFromEnv } from '../jobs/sqs-job-queue.js';
import { createManagementHandler } from './create-management-handler.js';

/** Lambda entry of the management function (Auth0 Management API v2); its jobs go to the job queue. */
const deps = createAwsDeps('auth-management', (d) => withRegistrationHooks(d, { jobs: () => awsJobs(), jobQueue: () => sqsJobQueueFromEnv(new SQSClient({})) }));
export const handler = correlateRequests(deps.sink, createManagementHandler(deps));
