import type { Deps } from '../deps.js';
import type { LoginTransactionRecord } from '../store/login-records.js';
import { newId } from '../tokens/refresh-token-format.js';
import type { AuthorizeRequest } from './authorize-request.js';

/** How long a user has to finish the login page after `/authorize`. */
export const LOGIN_TRANSACTION_SECONDS = 30 * 60;

/** A pending authorization request waiting for the login page, stored server-side. */
export type LoginTransaction = LoginTransactionRecord;

const TX_ID = /^[A-Za-z0-9_-]{16,40}$/;

/** What a login transaction uses: the pending logins' store and the clock. */
export type LoginTransactionDeps = Pick<Deps, 'loginTransactions' | 'now'>;

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
  // A fresh random id is never taken; if it were, nothing may be overwritten.
  if (!(await deps.loginTransactions.create(tx)).ok) throw new Error('login transaction id already taken');
  return tx;
}

/** The live transaction with this id, or undefined (unknown, malformed or expired). */
export async function findLoginTransaction(deps: LoginTransactionDeps, tenant: string, id: string | undefined): Promise<LoginTransaction | undefined> {
  if (!id || !TX_ID.test(id)) return undefined;
  return deps.loginTransactions.liveTransaction(tenant, id);
}

/** Ends a transaction once; false when another request already ended it. */
export async function completeLoginTransaction(deps: LoginTransactionDeps, tenant: string, id: string): Promise<boolean> {
  return deps.loginTransactions.end(tenant, id);
}
