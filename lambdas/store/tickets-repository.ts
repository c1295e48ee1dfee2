import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo-client.js';
import type { TicketItem, TicketOutcome as ConsumeOutcome } from './flow-records.js';
import type { TicketsStore } from '../ports.js';

export type { TicketItem } from './flow-records.js';

/** A ticket's secret travels only in the link; the table keeps its SHA-256 (base64url). */
export function hashTicket(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function newTicketToken(): string {
  return randomBytes(32).toString('base64url');
}

const ticketKey = (tenant: string, hash: string) => ({ pk: `TENANT#${tenant}#TICKET#${hash}`, sk: 'TICKET' });

/**
 * One-time tickets. Consuming one is a single conditional update (`issued` and not expired →
 * `used`), so of two submissions of the same link exactly one goes through.
 */
export function createTicketsRepository(db: DynamoDBDocumentClient, tableName: string): TicketsStore {
  async function get(tenant: string, hash: string): Promise<TicketItem | undefined> {
    const res = await db.send(new GetCommand({ TableName: tableName, Key: ticketKey(tenant, hash), ConsistentRead: true }));
    if (!res.Item) return undefined;
    const { pk: _pk, sk: _sk, ...item } = res.Item;
    return item as TicketItem;
  }
  return {
    get,
    async put(hash: string, item: TicketItem): Promise<void> {
      await db.send(
        new PutCommand({ TableName: tableName, Item: { ...ticketKey(item.tenant, hash), ...item }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    },

    /** The ticket if it can still be used (issued, not expired), without using it. */
    async peek(tenant: string, hash: string, nowSeconds: number): Promise<ConsumeOutcome> {
      const t = await get(tenant, hash);
      if (!t) return { outcome: 'missing' };
      if (t.status !== 'issued') return { outcome: 'used' };
      if (t.expires_at <= nowSeconds) return { outcome: 'expired' };
      return { outcome: 'consumed', ticket: t };
    },

    async consume(tenant: string, hash: string, nowSeconds: number): Promise<ConsumeOutcome> {
      try {
        const res = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: ticketKey(tenant, hash),
            UpdateExpression: 'SET #status = :used, used_at = :now',
            ConditionExpression: 'attribute_exists(pk) AND #status = :issued AND expires_at > :now',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':used': 'used', ':issued': 'issued', ':now': nowSeconds },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const { pk: _pk, sk: _sk, ...ticket } = res.Attributes ?? {};
        return { outcome: 'consumed', ticket: ticket as TicketItem };
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        const t = await get(tenant, hash);
        return { outcome: !t ? 'missing' : t.status !== 'issued' ? 'used' : 'expired' };
      }
    },
  };
}

export type TicketsRepository = ReturnType<typeof createTicketsRepository>;
