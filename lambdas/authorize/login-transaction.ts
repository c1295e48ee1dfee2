import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps.js';
import { isConditionalCheckFailed } from '../store/dynamo-client.js';
import { newId } from '../tokens/refresh-token-format.js';
import type { AuthorizeRequest } from './authorize-request.js';

/** How long a user has to finish the login page after `/authorize`. */
export const LOGIN_TRANSACTION_SECONDS = 30 * 60;

export const loginTransactionKey = (tenant: string, id: string) => ({
  pk: `TENANT#${tenant}#LOGINTX#${id}`,
  sk: 'LOGINTX',
});

/** A pending authorization request waiting for the login page, stored server-side. */
export interface LoginTransaction {
  id: string;
  tenant: string;
  request: AuthorizeRequest;
  /** SHA-256 of the CSRF token the login form and its cookie must both carry. */
  csrf_hash: string;
  expires_at: number;
  ttl: number;
}

const TX_ID = /^[A-Za-z0-9_-]{16,40}$/;

/** What a login transaction uses: its item in the table and the clock. */
export type LoginTransactionDeps = Pick<Deps, 'db' | 'tableName' | 'now'>;

export async function createLoginTransaction(
  deps: LoginTransactionDeps,
  tenant: string,
  request: AuthorizeRequest,
  csrfHash: string,
): Promise<LoginTransaction> {
  const now = Math.floor(deps.now() / 1000);
  const tx: LoginTransaction = {
    id: newId(),
    tenant,
    request,
    csrf_hash: csrfHash,
    expires_at: now + LOGIN_TRANSACTION_SECONDS,
    ttl: now + LOGIN_TRANSACTION_SECONDS,
  };
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: { ...loginTransactionKey(tenant, tx.id), ...tx },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return tx;
}

/** The live transaction with this id, or undefined (unknown, malformed or expired). */
export async function findLoginTransaction(deps: LoginTransactionDeps, tenant: string, id: string | undefined): Promise<LoginTransaction | undefined> {
  if (!id || !TX_ID.test(id)) return undefined;
  const res = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: loginTransactionKey(tenant, id), ConsistentRead: true }),
  );
  const item = res.Item as (LoginTransaction & { pk: string; sk: string }) | undefined;
  if (!item || item.tenant !== tenant) return undefined;
  if (item.expires_at <= Math.floor(deps.now() / 1000)) return undefined;
  const { pk: _pk, sk: _sk, ...tx } = item;
  return tx;
}

/** Ends a transaction once; false when another request already ended it. */
export async function completeLoginTransaction(deps: LoginTransactionDeps, tenant: string, id: string): Promise<boolean> {
  try {
    await deps.db.send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: loginTransactionKey(tenant, id),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}
