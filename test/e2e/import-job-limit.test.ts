import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImportBatch } from '../../lambdas/jobs/run-import-batch.js';
import type { JobMessage, JobQueue } from '../../lambdas/jobs/job-queue.js';
import { getJson, postImport } from '../support/import-jobs.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * Auth0 allows two active import jobs per tenant and answers 429 to a third. The slots are
 * items taken with conditional writes, so concurrent POSTs get exactly two; a job gives its slot
 * back when it ends, and a slot whose job ended without giving it back is taken over.
 */
let service: TestService;
let token: string;
const held: JobMessage[] = [];
let realQueue: JobQueue | undefined;

beforeAll(async () => {
  service = await startTestService();
  token = await managementApi(service).token(service.credentials.machineClient);
  realQueue = service.managementDeps.jobQueue;
  // The worker holds the jobs: they stay active until the test runs them.
  service.managementDeps.jobQueue = { send: async (messages) => void held.push(...messages) };
});
afterAll(async () => {
  if (realQueue) service.managementDeps.jobQueue = realQueue;
  await service?.close();
});

let n = 0;
const post = () => {
  n++;
  return postImport(service, token, { users: JSON.stringify([{ email: `limit${n}@example.com` }]), connection_id: service.credentials.connection.id });
};

describe("Auth0's limit of two active import jobs per tenant", () => {
  it('of five concurrent POSTs exactly two get a job; the others get 429 with Auth0\'s message and queue nothing', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, post));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(2);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.body).toMatchObject({
        statusCode: 429,
        error: 'Too Many Requests',
        errorCode: 'too_many_requests',
        message: 'There are 2 active import users jobs, please wait until some of them are finished and try again',
      });
    }
    expect(new Set(held.map((m) => m.jobId)).size).toBe(2);
  });

  it('a job that ends gives its slot back: the next POST gets a job, the one after is refused again', async () => {
    const first = held.shift()!;
    await runImportBatch(service.managementDeps, first as { tenant: string; jobId: string; batch: number });
    expect((await getJson(service, token, `/api/v2/jobs/${first.jobId}`)).body.status).toBe('completed');
    expect((await post()).status).toBe(201);
    expect((await post()).status).toBe(429);
  });

  it('a slot whose job ended without giving it back (a crash in between) is taken over; an active one is not', async () => {
    // The job is failed by a worker that crashed before releasing its slot.
    const stuck = held.shift()!;
    await service.deps.db.send(
      new UpdateCommand({
        TableName: service.deps.tableName,
        Key: { pk: `TENANT#${stuck.tenant}#JOB#${stuck.jobId}`, sk: 'JOB' },
        UpdateExpression: 'SET #s = :f',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':f': 'failed' },
      }),
    );
    const answers = await Promise.all([post(), post()]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 429]);
  });
});
