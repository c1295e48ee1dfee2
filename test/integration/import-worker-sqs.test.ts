import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImportWorker } from '../../lambdas/jobs/import-worker.js';
import { createSqsJobQueue } from '../../lambdas/jobs/sqs-job-queue.js';
import type { JobMessage } from '../../lambdas/jobs/job-queue.js';
import { getJson, postImport } from '../support/import-jobs.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from '../e2e/management-helpers.js';

/**
 * The AWS path of a job: the management function queues one SQS message per batch (SQS mocked:
 * it has no local engine), the worker handler takes SQS events and runs the batches against the
 * real store, reporting only failed records as `batchItemFailures`.
 */
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/import';
const sqs = mockClient(SQSClient);
let service: TestService;
let token: string;

beforeAll(async () => {
  service = await startTestService();
  token = await managementApi(service).token(service.credentials.machineClient);
});
afterAll(async () => {
  sqs.restore();
  await service?.close();
});

const record = (body: string, id: string): SQSRecord => ({ messageId: id, body } as SQSRecord);

describe('the SQS job queue', () => {
  it('sends ten messages per call and sends again only the entries SQS failed', async () => {
    sqs.reset();
    let first = true;
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      if (first) {
        first = false;
        return { Successful: input.Entries.slice(1).map((e) => ({ Id: e.Id })), Failed: [{ Id: input.Entries[0].Id, SenderFault: false, Code: 'InternalError' }] };
      }
      return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
    const queue = createSqsJobQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: QUEUE_URL });
    const messages = Array.from({ length: 23 }, (_, batch) => ({ tenant: 't', jobId: 'job_x', batch }));
    await queue.send(messages);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 1, 10, 3]);
    expect(calls.every((c) => c.QueueUrl === QUEUE_URL)).toBe(true);
    // Every message arrived once: the first call's accepted nine, the failed one again, then the rest.
    const sent = [...calls[0].Entries!.slice(1), ...calls.slice(1).flatMap((c) => c.Entries!)].map((e) => JSON.parse(e.MessageBody!) as JobMessage);
    expect(sent.map((m) => m.batch).sort((a, b) => a - b)).toEqual(messages.map((m) => m.batch));
  });
});

describe('the import worker', () => {
  it('runs each queued batch; a failed record is reported alone and completes the job when delivered again', async () => {
    sqs.reset();
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));
    service.managementDeps.jobQueue = createSqsJobQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: QUEUE_URL });
    const N = 700;
    const file = JSON.stringify(Array.from({ length: N }, (_, i) => ({ email: `sqs${i}@example.com`, user_metadata: { pad: 'y'.repeat(400) } })));
    const posted = await postImport(service, token, { users: file, connection_id: service.credentials.connection.id });
    expect(posted.status).toBe(201);
    const bodies = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.MessageBody!));
    expect(bodies.length).toBeGreaterThan(1);

    // The store fails once, for the first record: only that record comes back.
    let failures = 1;
    const load = service.deps.tenantConfigs.load;
    const flaky = {
      ...service.deps,
      tenantConfigs: {
        ...service.deps.tenantConfigs,
        load: async (tenant: string) => {
          if (failures-- > 0) throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException', $metadata: {} });
          return load(tenant);
        },
      },
    };
    const worker = createImportWorker(flaky);
    const event: SQSEvent = { Records: [...bodies.map((b, i) => record(b, `m${i}`)), record('not a job message', 'garbage')] };
    expect(await worker(event)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect((await getJson(service, token, `/api/v2/jobs/${posted.body.id}`)).body.status).toBe('processing');

    expect(await worker({ Records: [record(bodies[0], 'm0-again')] })).toEqual({ batchItemFailures: [] });
    const job = (await getJson(service, token, `/api/v2/jobs/${posted.body.id}`)).body;
    expect(job).toMatchObject({ status: 'completed', summary: { inserted: N, failed: 0, total: N } });
  });
});
