import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, isConditionalCheckFailed } from './dynamo-client.js';
import type { ImportSlotsStore } from '../ports.js';

/** Auth0's limit: import jobs of a tenant active at once. */
export const MAX_ACTIVE_IMPORT_JOBS = 2;
/** A slot whose job item never appeared this long after it was taken was left by a crash between the two writes. */
const ORPHAN_SLOT_MS = 60_000;
/** A slot is given up after this long whatever its job says (a job stuck without a worker must not hold it for ever). */
const SLOT_MAX_MS = 24 * 3600_000;

const slotKey = (tenant: string, n: number) => ({ pk: `TENANT#${tenant}#IMPORT_SLOTS`, sk: `SLOT#${n}` });

/**
 * The tenant's import job slots, fleet-wide: one item per slot, taken by a job with a conditional
 * put (no transaction) before its job is written, given back when the job ends. A slot that
 * seems taken is checked when all are: its job ended (`completed`/`failed`), never appeared
 * (a crash after the slot was taken) or is older than a day, and it is taken over with a
 * conditional write on the job it named, so two requests never both get it.
 */
export function createImportSlotsRepository(db: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now): ImportSlotsStore {
  async function put(tenant: string, n: number, jobId: string, condition: { expression: string; values?: Record<string, unknown> }): Promise<boolean> {
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...slotKey(tenant, n), job_id: jobId, taken_at: now() },
          ConditionExpression: condition.expression,
          ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
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
     * Takes a slot for `jobId`; false when every slot holds a job that is still active.
     * `jobStatus` answers the status of a job a slot names (undefined when it does not exist).
     */
    async take(tenant: string, jobId: string, jobStatus: (id: string) => Promise<string | undefined>): Promise<boolean> {
      for (let n = 0; n < MAX_ACTIVE_IMPORT_JOBS; n++) {
        if (await put(tenant, n, jobId, { expression: 'attribute_not_exists(pk)' })) return true;
      }
      const slots = await batchGetItems(db, tableName, Array.from({ length: MAX_ACTIVE_IMPORT_JOBS }, (_, n) => slotKey(tenant, n)), { consistent: true });
      for (let n = 0; n < MAX_ACTIVE_IMPORT_JOBS; n++) {
        const key = slotKey(tenant, n);
        const slot = slots.get(`${key.pk}|${key.sk}`);
        if (!slot) {
          if (await put(tenant, n, jobId, { expression: 'attribute_not_exists(pk)' })) return true;
          continue;
        }
        const age = now() - Number(slot.taken_at ?? 0);
        const status = await jobStatus(String(slot.job_id));
        const stale = age > SLOT_MAX_MS || status === 'completed' || status === 'failed' || (status === undefined && age > ORPHAN_SLOT_MS);
        if (stale && (await put(tenant, n, jobId, { expression: 'job_id = :old', values: { ':old': slot.job_id } }))) return true;
      }
      return false;
    },

    /** Gives back the slot a job holds (when it ends, or when it could not be created). */
    async release(tenant: string, jobId: string): Promise<void> {
      for (let n = 0; n < MAX_ACTIVE_IMPORT_JOBS; n++) {
        await db
          .send(
            new DeleteCommand({
              TableName: tableName,
              Key: slotKey(tenant, n),
              ConditionExpression: 'job_id = :j',
              ExpressionAttributeValues: { ':j': jobId },
            }),
          )
          .catch((err) => {
            if (!isConditionalCheckFailed(err)) throw err;
          });
      }
    },
  };
}
