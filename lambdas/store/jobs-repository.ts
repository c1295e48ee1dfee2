import { GetCommand, PutCommand, QueryCommand, UpdateCommand, DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import type { BatchResult, ImportJobRecord, JobSummary } from './flow-records.js';
import type { ImportJobsStore } from '../ports.js';

/**
 * Jobs in the table. One partition per job (`TENANT#t#JOB#<id>`):
 * - `JOB`: the job (connection, options, how many batches, status);
 * - `BATCH#<n>`: a slice of the uploaded file (≤ 256 KB of users, so one item stays far below
 *   DynamoDB's 400 KB), written once at upload;
 * - `RESULT#<n>`: what the worker made of batch n (counts and the users' errors), written once
 *   after the batch ran. A batch with a result is never run again; a batch without one is run
 *   again from the start (every user write is idempotent), so a crashed worker loses nothing.
 * Jobs not yet completed also have a marker `JOBS#PENDING` / `<tenant>#<id>`, which the local
 * server reads at start to resume them (in AWS the queue redelivers instead). Per-user writes go
 * to the users' own partitions; a job's partition takes one write per batch, never one per user.
 */
const jobPartition = (tenant: string, id: string) => `TENANT#${tenant}#JOB#${id}`;
const batchSk = (n: number) => `BATCH#${String(n).padStart(5, '0')}`;
const resultSk = (n: number) => `RESULT#${String(n).padStart(5, '0')}`;
const PENDING_PK = 'JOBS#PENDING';

export function createJobsRepository(db: DynamoDBDocumentClient, tableName: string): ImportJobsStore {
  async function queryAll(pk: string, prefix: string, projection?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const res = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
          ExpressionAttributeValues: prefix ? { ':pk': pk, ':p': prefix } : { ':pk': pk },
          ...(projection ? { ProjectionExpression: projection } : {}),
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      items.push(...((res.Items ?? []) as Record<string, unknown>[]));
      start = res.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Sets the job's status if `condition` holds; answers whether it did. */
  async function setStatusIf(tenant: string, id: string, set: string, condition: string, values: Record<string, unknown>): Promise<boolean> {
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: jobPartition(tenant, id), sk: 'JOB' },
          UpdateExpression: set,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  return {
    /**
     * Stores a new job: its batches first, then the pending marker, then the job item. A crash
     * before the job item leaves batches nobody points at (the client got no job id and uploads
     * again); the marker of a job without its item is dropped when read.
     */
    async createImportJob(job: ImportJobRecord, batches: string[]): Promise<void> {
      const pk = jobPartition(job.tenant, job.id);
      for (let n = 0; n < batches.length; n++) {
        await db.send(new PutCommand({ TableName: tableName, Item: { pk, sk: batchSk(n), users: batches[n] } }));
      }
      await db.send(new PutCommand({ TableName: tableName, Item: { pk: PENDING_PK, sk: `${job.tenant}#${job.id}`, tenant: job.tenant, id: job.id } }));
      await db.send(new PutCommand({ TableName: tableName, Item: { pk, sk: 'JOB', ...job }, ConditionExpression: 'attribute_not_exists(pk)' }));
    },

    async getJob(tenant: string, id: string): Promise<ImportJobRecord | undefined> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: { pk: jobPartition(tenant, id), sk: 'JOB' }, ConsistentRead: true }));
      if (!res.Item) return undefined;
      const { pk: _pk, sk: _sk, ...job } = res.Item;
      return job as ImportJobRecord;
    },

    /** The raw users of batch n (a JSON array text). */
    async getBatch(tenant: string, id: string, n: number): Promise<string | undefined> {
      const res = await db.send(new GetCommand({ TableName: tableName, Key: { pk: jobPartition(tenant, id), sk: batchSk(n) }, ConsistentRead: true }));
      return res.Item?.users as string | undefined;
    },

    async hasResult(tenant: string, id: string, n: number): Promise<boolean> {
      const res = await db.send(
        new GetCommand({ TableName: tableName, Key: { pk: jobPartition(tenant, id), sk: resultSk(n) }, ProjectionExpression: 'sk', ConsistentRead: true }),
      );
      return !!res.Item;
    },

    /** Records a batch's outcome once (answers whether this call did); a second run's result is dropped. */
    async putResult(tenant: string, id: string, n: number, result: BatchResult): Promise<boolean> {
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: jobPartition(tenant, id), sk: resultSk(n), ...result },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        return false;
      }
    },

    /** Counts of the batches done so far (not their errors). */
    async summary(tenant: string, id: string): Promise<JobSummary> {
      const items = await queryAll(jobPartition(tenant, id), 'RESULT#', 'inserted, updated, failed');
      const sum = { inserted: 0, updated: 0, failed: 0, total: 0, done: items.length };
      for (const i of items) {
        sum.inserted += Number(i.inserted ?? 0);
        sum.updated += Number(i.updated ?? 0);
        sum.failed += Number(i.failed ?? 0);
      }
      sum.total = sum.inserted + sum.updated + sum.failed;
      return sum;
    },

    async errors(tenant: string, id: string): Promise<BatchResult['errors']> {
      const items = await queryAll(jobPartition(tenant, id), 'RESULT#', 'errors');
      return items.flatMap((i) => (i.errors as BatchResult['errors'] | undefined) ?? []);
    },

    /** Moves the job to a final status once; answers whether this call did (so only one logs it). */
    async finish(tenant: string, id: string, status: 'completed' | 'failed', at: string): Promise<boolean> {
      const ended = await setStatusIf(tenant, id, 'SET #s = :s, completed_at = :at', 'attribute_exists(pk) AND #s <> :completed AND #s <> :failed', {
        ':s': status,
        ':at': at,
        ':completed': 'completed',
        ':failed': 'failed',
      });
      if (!ended) return false;
      await db.send(new DeleteCommand({ TableName: tableName, Key: { pk: PENDING_PK, sk: `${tenant}#${id}` } }));
      return true;
    },

    async markProcessing(tenant: string, id: string): Promise<void> {
      await setStatusIf(tenant, id, 'SET #s = :processing', '#s = :pending', { ':processing': 'processing', ':pending': 'pending' });
    },

    /** Jobs not completed yet, every tenant (the local server resumes them at start). */
    async pendingJobs(): Promise<{ tenant: string; id: string }[]> {
      const items = await queryAll(PENDING_PK, '');
      return items.map((i) => ({ tenant: String(i.tenant), id: String(i.id) }));
    },
  };
}

export type JobsRepository = ImportJobsStore;
