import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { JobRef, JobRunner } from './job-ports.js';

/** The payload of a job invocation: the function tells it from an API Gateway event by `job`. */
export interface JobInvocation {
  job: JobRef;
}

export const isJobInvocation = (event: unknown): event is JobInvocation =>
  typeof event === 'object' && event !== null && 'job' in event && !('requestContext' in event);

/**
 * Runs jobs out of the request in AWS: an asynchronous (`Event`) invocation of a function that
 * takes `{ job }` (the management function itself: Lambda queues the event and retries it twice).
 * The job is recorded before it is enqueued, so a run that never starts leaves it `pending`.
 */
export function createLambdaJobRunner(client: LambdaClient, functionName: string): JobRunner {
  return {
    async enqueue(job) {
      await client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ job } satisfies JobInvocation)) }),
      );
    },
  };
}
