import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { importOneUser } from '../../lambdas/jobs/import-user.js';
import { runImportBatch } from '../../lambdas/jobs/run-import-batch.js';
import { createJobsRepository } from '../../lambdas/store/jobs-repository.js';
import { createUsersIndex } from '../../lambdas/store/users-index.js';
import { getJson, postImport } from '../support/import-jobs.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from '../e2e/management-helpers.js';

/**
 * A job's progress is in the table: a server that stops half-way through a job resumes it at
 * its next start, and running a batch again (a redelivered message) never creates a user twice.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'import-resume-'));
const started: TestService[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

const N = 800;
const file = JSON.stringify(Array.from({ length: N }, (_, i) => ({ email: `resume${i}@example.com`, name: `Resume ${i}`, user_metadata: { pad: 'x'.repeat(300) } })));

async function countImported(service: TestService): Promise<number> {
  const users = await createUsersIndex(service.deps.db, service.deps.tableName).find(service.credentials.tenant, (u) => u.email?.startsWith('resume') ?? false, 10_000);
  return users.length;
}

describe('a crashed import job', () => {
  it('resumes at the next start of the server and completes without duplicates', async () => {
    const first = await startTestService({ dataDir });
    started.push(first);
    const token = await managementApi(first).token(first.credentials.machineClient);
    // The worker crashes after a part of the first batch: its queue takes the messages and loses them.
    first.managementDeps.jobQueue = { send: async () => {} };
    const posted = await postImport(first, token, { users: file, connection_id: first.credentials.connection.id });
    expect(posted.status).toBe(201);
    const job = await createJobsRepository(first.deps.db, first.deps.tableName).getJob(first.credentials.tenant, posted.body.id);
    expect(job!.batches).toBeGreaterThan(1);
    const connection = (await first.deps.tenantConfigs.load(first.credentials.tenant))!.connections.get(first.credentials.connection.id)!;
    const ctx = { tenant: first.credentials.tenant, jobId: posted.body.id, connection, upsert: false };
    for (const u of JSON.parse(file).slice(0, 100)) expect((await importOneUser(first.deps, ctx, u)).kind).toBe('inserted');
    expect((await getJson(first, token, `/api/v2/jobs/${posted.body.id}`)).body.status).not.toBe('completed');
    await first.close();
    started.pop();

    const second = await startTestService({ dataDir });
    started.push(second);
    await new Promise((r) => setTimeout(r, 50));
    await second.jobs.idle();
    const token2 = await managementApi(second).token(second.credentials.machineClient);
    const done = (await getJson(second, token2, `/api/v2/jobs/${posted.body.id}`)).body;
    expect(done).toMatchObject({ status: 'completed', summary: { inserted: N, updated: 0, failed: 0, total: N } });
    expect(await countImported(second)).toBe(N);

    // A batch delivered again after its result was lost: same users, no second copy of any.
    await second.deps.db.send(
      new DeleteCommand({ TableName: second.deps.tableName, Key: { pk: `TENANT#${second.credentials.tenant}#JOB#${posted.body.id}`, sk: 'RESULT#00000' } }),
    );
    const repo = createJobsRepository(second.deps.db, second.deps.tableName);
    const jobRecord = (await repo.getJob(second.credentials.tenant, posted.body.id))!;
    await second.deps.db.send(
      new UpdateCommand({
        TableName: second.deps.tableName,
        Key: { pk: `TENANT#${second.credentials.tenant}#JOB#${jobRecord.id}`, sk: 'JOB' },
        UpdateExpression: 'SET #s = :p',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'processing' },
      }),
    );
    await runImportBatch(second.deps, { tenant: second.credentials.tenant, jobId: posted.body.id, batch: 0 });
    expect(await countImported(second)).toBe(N);
    const again = await repo.summary(second.credentials.tenant, posted.body.id);
    expect(again).toMatchObject({ inserted: N, failed: 0 });
  }, 180_000);
});
