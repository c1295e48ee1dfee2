import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuthorizeRequest } from '../authorize/authorize-request.js';
import { readCookie } from '../authorize/cookies.js';
import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import { isConditionalCheckFailed } from '../store/dynamo-client.js';

/** What a social transaction uses: its item in the table and the clock. */
export type SocialTransactionDeps = Pick<Deps, 'db' | 'tableName' | 'now'>;

/** How long the user may spend at the provider. */
export const SOCIAL_TRANSACTION_SECONDS = 15 * 60;
export const CALLBACK_PATH = '/login/callback';

/**
 * A login sent to a provider and waiting for its answer at `/login/callback`. Its id is the
 * `state` sent to the provider; the browser that started it holds a cookie whose hash is stored
 * here, so a callback from another browser (login CSRF) is refused. Consumed once.
 */
export interface SocialTransaction {
  id: string;
  tenant: string;
  request: AuthorizeRequest;
  connection_id: string;
  nonce: string;
  code_verifier: string;
  browser_hash: string;
  expires_at: number;
  ttl: number;
}

const key = (tenant: string, id: string) => ({ pk: `TENANT#${tenant}#SOCIALTX#${id}`, sk: 'SOCIALTX' });
const STATE = /^[A-Za-z0-9_-]{43}$/;
const random = () => randomBytes(32).toString('base64url');
const sha256 = (v: string) => createHash('sha256').update(v).digest('base64url');

export const browserCookieName = (id: string) => `_social_${id.slice(0, 16)}`;

/** The browser-binding cookie: SameSite=None when Secure, so a provider's form_post callback carries it too. */
export function browserCookie(id: string, value: string, secure: boolean, maxAge: number): string {
  const parts = [`${browserCookieName(id)}=${value}`, `Path=${CALLBACK_PATH}`, `Max-Age=${maxAge}`, 'HttpOnly'];
  parts.push(secure ? 'SameSite=None; Secure' : 'SameSite=Lax');
  return parts.join('; ');
}

export async function createSocialTransaction(
  deps: SocialTransactionDeps,
  p: { tenant: string; request: AuthorizeRequest; connectionId: string },
): Promise<{ tx: SocialTransaction; browserToken: string }> {
  const now = Math.floor(deps.now() / 1000);
  const browserToken = random();
  const tx: SocialTransaction = {
    id: random(),
    tenant: p.tenant,
    request: p.request,
    connection_id: p.connectionId,
    nonce: random(),
    code_verifier: random(),
    browser_hash: sha256(browserToken),
    expires_at: now + SOCIAL_TRANSACTION_SECONDS,
    ttl: now + SOCIAL_TRANSACTION_SECONDS,
  };
  await deps.db.send(
    new PutCommand({ TableName: deps.tableName, Item: { ...key(p.tenant, tx.id), ...tx }, ConditionExpression: 'attribute_not_exists(pk)' }),
  );
  return { tx, browserToken };
}

export async function findSocialTransaction(deps: SocialTransactionDeps, tenant: string, state: string | undefined): Promise<SocialTransaction | undefined> {
  if (!state || !STATE.test(state)) return undefined;
  const res = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: key(tenant, state), ConsistentRead: true }));
  const item = res.Item as (SocialTransaction & { pk: string; sk: string }) | undefined;
  if (!item || item.tenant !== tenant || item.expires_at <= Math.floor(deps.now() / 1000)) return undefined;
  const { pk: _pk, sk: _sk, ...tx } = item;
  return tx;
}

/** Whether the request comes from the browser that started the transaction. */
export function isSameBrowser(event: HttpEvent, tx: SocialTransaction): boolean {
  const token = readCookie(event, browserCookieName(tx.id));
  if (!token) return false;
  const a = Buffer.from(sha256(token));
  const b = Buffer.from(tx.browser_hash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Ends the transaction once; false when another request already used it (a replayed callback). */
export async function consumeSocialTransaction(deps: SocialTransactionDeps, tenant: string, id: string): Promise<boolean> {
  try {
    await deps.db.send(
      new DeleteCommand({ TableName: deps.tableName, Key: key(tenant, id), ConditionExpression: 'attribute_exists(pk)' }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}
