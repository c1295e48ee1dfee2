import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import { keys } from './keys.js';
import type { ExportJobStatus as JobStatus, UsersExportJob } from './flow-records.js';
import type { ExportJobsStore } from '../ports.js';

export type { ExportField, UsersExportJob } from './flow-records.js';

/** Export jobs: one item each, `TENANT#t#JOB#<id>` / `USERS_EXPORT`; status moves forward only. */
export function createExportJobsRepository(db: DynamoDBDocumentClient, tableName: string): ExportJobsStore {
  return {
    async create(job: UsersExportJob): Promise<void> {
      await db.send(
        new PutCommand({ TableName: tableName, Item: { ...keys.usersExportJob(job.tenant, job.id), ...job }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    },

    async get(tenant: string, id: string, nowSeconds: number): Promise<UsersExportJob | undefined> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: keys.usersExportJob(tenant, id), ConsistentRead: true }));
      if (!res.Item || Number(res.Item.ttl) <= nowSeconds) return undefined;
      const { pk: _pk, sk: _sk, ...job } = res.Item;
      return job as UsersExportJob;
    },

    /** Moves a job on from one of `from`; false when it is no longer there (another run got it first). */
    async transition(tenant: string, id: string, from: JobStatus[], to: JobStatus, set: Partial<Pick<UsersExportJob, 'file_key' | 'users_exported' | 'error'>> = {}): Promise<boolean> {
      const names: Record<string, string> = { '#status': 'status' };
      const values: Record<string, unknown> = { ':to': to };
      const sets = ['#status = :to'];
      for (const [k, v] of Object.entries(set)) {
        names[`#${k}`] = k;
        values[`:${k}`] = v;
        sets.push(`#${k} = :${k}`);
      }
      from.forEach((s, i) => (values[`:from${i}`] = s));
      try {
        await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.usersExportJob(tenant, id),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: `attribute_exists(pk) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return false;
        throw err;
      }
    },
  };
}

export type ExportJobsRepository = ReturnType<typeof createExportJobsRepository>;
