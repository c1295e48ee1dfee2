import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { runImportBatch } from '../../lambdas/jobs/run-import-batch.js';
import { getJson, importAndWait } from '../support/import-jobs.js';
import { startTestService, type TestService } from '../support/local-service.js';
import { managementApi } from './management-helpers.js';

/**
 * New users of an import batch are written with BatchWriteItem, which has no conditions: these
 * tests prove that a user_id that already exists is still never overwritten, that a user who
 * fails gives back the identifiers it claimed, and that the users of a file that fail are in the
 * job's errors while the others are imported.
 */
let service: TestService;
let token: string;
let api: ReturnType<typeof managementApi>;

beforeAll(async () => {
  service = await startTestService();
  api = managementApi(service);
  token = await api.token(service.credentials.machineClient);
});
afterAll(async () => {
  await service?.close();
});

const connectionId = () => service.credentials.connection.id;
const claimOf = (email: string) => service.deps.users.claimOf(keys.emailClaim(service.credentials.tenant, connectionId(), email));

async function createUser(userId: string, email: string) {
  const res = await api.call('POST', '/api/v2/users', {
    token,
    body: { connection: service.credentials.connection.name, user_id: userId, email, password: 'Existing-pw-1!', name: 'Existing' },
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe('an import batch written with BatchWriteItem', () => {
  it('never overwrites a user_id that exists under another email; its claim is given back and it is reported, the others imported', async () => {
    await createUser('keep1', 'keep1-original@example.com');
    const file = [
      { email: 'keep1-new@example.com', user_id: 'keep1', name: 'Overwriter' },
      { email: 'fresh-a@example.com', user_id: 'fresh-a', name: 'Fresh A' },
      { email: 'fresh-b@example.com', name: 'Fresh B' },
    ];
    for (const upsert of [false, true]) {
      const job = await importAndWait(service, token, { users: JSON.stringify(file), connection_id: connectionId(), upsert });
      expect(job.status).toBe('completed');
      expect(job.summary).toMatchObject({ failed: 1, total: 3 });
      const errors = (await getJson(service, token, `/api/v2/jobs/${job.id}/errors`)).body;
      expect(errors).toHaveLength(1);
      expect(errors[0].user).toMatchObject({ email: 'keep1-new@example.com' });
      expect(errors[0].errors[0].code).toBe(upsert ? 'CONFLICT' : 'DUPLICATED_USER');

      const kept = (await api.call('GET', `/api/v2/users/${encodeURIComponent('auth0|keep1')}`, { token })).body;
      expect(kept).toMatchObject({ email: 'keep1-original@example.com', name: 'Existing' });
      expect(kept.arrival?.via).not.toBe('import');
      // The email the failed user claimed is free again; the user's own email still points at it.
      expect(await claimOf('keep1-new@example.com')).toBeUndefined();
      expect(await claimOf('keep1-original@example.com')).toMatchObject({ user_id: 'auth0|keep1' });
    }
    const fresh = (await api.call('GET', `/api/v2/users/${encodeURIComponent('auth0|fresh-a')}`, { token })).body;
    expect(fresh).toMatchObject({ email: 'fresh-a@example.com', arrival: { via: 'import' } });
    expect((await api.call('GET', '/api/v2/users-by-email?email=fresh-b%40example.com', { token })).body).toHaveLength(1);
  });

  it('a user_id given twice in one file is one user (BatchWriteItem refuses repeated keys, so the second goes on its own)', async () => {
    const file = [
      { email: 'twice@example.com', user_id: 'twice', name: 'First' },
      { email: 'once@example.com', user_id: 'once' },
      { email: 'twice-other@example.com', user_id: 'twice', name: 'Second' },
    ];
    const job = await importAndWait(service, token, { users: JSON.stringify(file), connection_id: connectionId() });
    expect(job.status).toBe('completed');
    const user = (await api.call('GET', `/api/v2/users/${encodeURIComponent('auth0|twice')}`, { token })).body;
    expect(user).toMatchObject({ email: 'twice@example.com', name: 'First' });
    // The second entry's email was claimed for a user_id that has another email: given back.
    expect(await claimOf('twice-other@example.com')).toBeUndefined();
  });

  it('a batch delivered again (its result lost) writes nobody twice and keeps its users as written', async () => {
    const file = Array.from({ length: 60 }, (_, i) => ({ email: `again${i}@example.com`, user_id: `again${i}`, name: `Again ${i}` }));
    const job = await importAndWait(service, token, { users: JSON.stringify(file), connection_id: connectionId() });
    expect(job.summary).toMatchObject({ inserted: 60, failed: 0 });
    // Someone changes a user in between; running the batch again must not write it back.
    expect((await api.call('PATCH', `/api/v2/users/${encodeURIComponent('auth0|again0')}`, { token, body: { name: 'Changed' } })).status).toBe(200);
    const pk = `TENANT#${service.credentials.tenant}#JOB#${job.id}`;
    await service.deps.db.send(new DeleteCommand({ TableName: service.deps.tableName, Key: { pk, sk: 'RESULT#00000' } }));
    await service.deps.db.send(
      new UpdateCommand({
        TableName: service.deps.tableName,
        Key: { pk, sk: 'JOB' },
        UpdateExpression: 'SET #s = :p',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'processing' },
      }),
    );
    await runImportBatch(service.deps, { tenant: service.credentials.tenant, jobId: job.id, batch: 0 });
    expect((await api.call('GET', `/api/v2/users/${encodeURIComponent('auth0|again0')}`, { token })).body.name).toBe('Changed');
    const after = (await getJson(service, token, `/api/v2/jobs/${job.id}`)).body;
    expect(after.summary).toMatchObject({ inserted: 60, failed: 0 });
  });
});
