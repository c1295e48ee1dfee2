import { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsDeps } from '../aws-deps.js';
import { correlateRequests } from '../logs/log-sink.js';
import { withRegistrationHooks } from '../compose.js';
import { withAwsJobs } from '../jobs/aws-jobs.js';
import { withSqsJobQueue } from '../jobs/sqs-job-queue.js';
import { isJobInvocation } from '../jobs/lambda-job-runner.js';
import { runUsersExport } from '../jobs/users-export.js';
import { createManagementHandler } from './create-management-handler.js';

/** Lambda entry of the management function (Auth0 Management API v2), and of the jobs it enqueues for itself. */
const deps = createAwsDeps('auth-management', (d) => withSqsJobQueue(withAwsJobs(withRegistrationHooks(d)), new SQSClient({})));
const api = correlateRequests(deps.sink, createManagementHandler(deps));
export const handler = (event: Parameters<typeof api>[0] | { job: { tenant: string; id: string; type: 'users_export' } }, context: Parameters<typeof api>[1]) =>
  isJobInvocation(event) ? runUsersExport(deps, event.job) : api(event as Parameters<typeof api>[0], context);
