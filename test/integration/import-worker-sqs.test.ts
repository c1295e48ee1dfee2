import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobWorker } from '../../lambdas/jobs/import-worker.js';
import { createSqsJobQueue } from '../../lambdas/jobs/sqs-job-queue.js';
import type { ImportBatchMessage } from '../../lambdas/jobs/job-queue.js';
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

const DLQ_ARN = 'arn:aws:sqs:eu-west-1:123456789012:import-dlq';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:import';
const record = (body: string, id: string, from = QUEUE_ARN): SQSRecord => ({ messageId: id, body, eventSourceARN: from } as SQSRecord);
const sentBodies = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.MessageBody!));
const acceptAll = () =>
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] }));

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
    const sent = [...calls[0].Entries!.slice(1), ...calls.slice(1).flatMap((c) => c.Entries!)].map((e) => JSON.parse(e.MessageBody!) as ImportBatchMessage);
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
    const worker = createJobWorker(flaky);
    const event: SQSEvent = { Records: [...bodies.map((b, i) => record(b, `m${i}`)), record('not a job message', 'garbage')] };
    expect(await worker(event)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect((await getJson(service, token, `/api/v2/jobs/${posted.body.id}`)).body.status).toBe('processing');

    expect(await worker({ Records: [record(bodies[0], 'm0-again')] })).toEqual({ batchItemFailures: [] });
    const job = (await getJson(service, token, `/api/v2/jobs/${posted.body.id}`)).body;
    expect(job).toMatchObject({ status: 'completed', summary: { inserted: N, failed: 0, total: N } });
  });
});

describe('jobs whose worker fails for good', () => {
  it('a users export runs in the worker from its queue message, and a message from the dead-letter queue ends a job failed', async () => {
    sqs.reset();
    acceptAll();
    service.managementDeps.jobQueue = createSqsJobQueue({ client: new SQSClient({ region: 'eu-west-1' }), queueUrl: QUEUE_URL });
    const api = managementApi(service);
    const worker = createJobWorker(service.managementDeps, { deadLetterQueueArn: DLQ_ARN });

    const exported = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { format: 'ndjson', fields: [{ name: 'email' }] } });
    expect(exported.status).toBe(201);
    const [exportBody] = sentBodies();
    expect(JSON.parse(exportBody)).toEqual({ tenant: service.credentials.tenant, jobId: exported.body.id, type: 'users_export' });
    expect((await api.call('GET', `/api/v2/jobs/${exported.body.id}`, { token })).body.status).toBe('pending');
    expect(await worker({ Records: [record(exportBody, 'e1')] })).toEqual({ batchItemFailures: [] });
    expect((await api.call('GET', `/api/v2/jobs/${exported.body.id}`, { token })).body).toMatchObject({ status: 'completed', location: expect.any(String) });

    // An export and an import whose messages failed every delivery (e.g. the worker timed out): the DLQ feeds the worker.
    sqs.reset();
    acceptAll();
    const stuckExport = await api.call('POST', '/api/v2/jobs/users-exports', { token, body: { format: 'csv' } });
    const stuckImport = await postImport(service, token, { users: JSON.stringify([{ email: 'dlq@example.com' }]), connection_id: service.credentials.connection.id });
    expect(stuckImport.status).toBe(201);
    const bodies = sentBodies();
    expect(bodies).toHaveLength(2);
    expect(await worker({ Records: bodies.map((b, i) => record(b, `d${i}`, DLQ_ARN)) })).toEqual({ batchItemFailures: [] });
    expect((await api.call('GET', `/api/v2/jobs/${stuckExport.body.id}`, { token })).body.status).toBe('failed');
    expect((await getJson(service, token, `/api/v2/jobs/${stuckImport.body.id}`)).body.status).toBe('failed');
    // A redrive after that changes nothing: a failed job stays failed.
    expect(await worker({ Records: [record(bodies[1], 'again')] })).toEqual({ batchItemFailures: [] });
    expect((await getJson(service, token, `/api/v2/jobs/${stuckImport.body.id}`)).body.status).toBe('failed');
  });
});
