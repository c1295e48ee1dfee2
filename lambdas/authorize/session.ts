import { createHash, randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import { readCookie, serializeCookie } from './cookies.js';

/** The login session cookie: an opaque random id; the table keys the session by its hash. */
export const SESSION_COOKIE = 'auth0_session';
/** How long a login session lets `/authorize` answer without the page. */
export const SESSION_SECONDS = 3 * 24 * 3600;

export const loginSessionKey = (tenant: string, idHash: string) => ({
  pk: `TENANT#${tenant}#SESSION#${idHash}`,
  sk: 'SESSION',
});

export interface LoginSession {
  tenant: string;
  user_id: string;
  connection_id: string;
  /** Epoch seconds of the password login that started the session. */
  auth_time: number;
  /** The session's public id (the id token's `sid`); never the cookie value. */
  sid?: string;
  expires_at: number;
  ttl: number;
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** What a login session uses: its item in the table and the clock. */
export type LoginSessionDeps = Pick<Deps, 'db' | 'tableName' | 'now'>;

function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** Starts a session after a successful login; returns the Set-Cookie value. */
export async function startLoginSession(
  deps: LoginSessionDeps,
  p: { tenant: string; userId: string; connectionId: string; secure: boolean },
): Promise<{ cookie: string; session: LoginSession }> {
  const id = randomBytes(32).toString('base64url');
  const now = Math.floor(deps.now() / 1000);
  const session: LoginSession = {
    tenant: p.tenant,
    user_id: p.userId,
    connection_id: p.connectionId,
    auth_time: now,
    sid: randomBytes(16).toString('base64url'),
    expires_at: now + SESSION_SECONDS,
    ttl: now + SESSION_SECONDS,
  };
  await deps.db.send(
    new PutCommand({ TableName: deps.tableName, Item: { ...loginSessionKey(p.tenant, hashSessionId(id)), ...session } }),
  );
  return { cookie: serializeCookie(SESSION_COOKIE, id, { path: '/', maxAge: SESSION_SECONDS, secure: p.secure }), session };
}

/** The live session of the request's cookie, if any (expiry checked on read). */
export async function currentLoginSession(deps: LoginSessionDeps, tenant: string, event: HttpEvent): Promise<LoginSession | undefined> {
  const id = readCookie(event, SESSION_COOKIE);
  if (!id || !SESSION_ID.test(id)) return undefined;
  const res = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: loginSessionKey(tenant, hashSessionId(id)), ConsistentRead: true }),
  );
  const item = res.Item as (LoginSession & { pk: string }) | undefined;
  if (!item || item.tenant !== tenant || item.expires_at <= Math.floor(deps.now() / 1000)) return undefined;
  const { pk: _pk, sk: _sk, ...session } = item as LoginSession & { pk: string; sk: string };
  return session;
}

/** Ends the request's session (if any); returns the Set-Cookie value that clears the cookie. */
export async function endLoginSession(deps: LoginSessionDeps, tenant: string, event: HttpEvent, secure: boolean): Promise<{ cookie: string; ended?: LoginSession }> {
  const ended = await currentLoginSession(deps, tenant, event);
  const id = readCookie(event, SESSION_COOKIE);
  if (id && SESSION_ID.test(id)) {
    await deps.db.send(new DeleteCommand({ TableName: deps.tableName, Key: loginSessionKey(tenant, hashSessionId(id)) }));
  }
  return { cookie: serializeCookie(SESSION_COOKIE, '', { path: '/', maxAge: 0, secure }), ended };
}
