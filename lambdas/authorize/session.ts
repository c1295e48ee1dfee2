import { createHash, randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import type { LoginSessionRecord } from '../store/login-records.js';
import { readCookie, serializeCookie } from './cookies.js';

/** The login session cookie: an opaque random id; the table keys the session by its hash. */
export const SESSION_COOKIE = 'auth0_session';
/** How long a login session lets `/authorize` answer without the page. */
export const SESSION_SECONDS = 3 * 24 * 3600;

export type LoginSession = LoginSessionRecord;

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** What a login session uses: the sessions' store and the clock. */
export type LoginSessionDeps = Pick<Deps, 'loginSessions' | 'now'>;

function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The well-formed session id of the request's cookie, if any. */
function sessionIdOf(event: HttpEvent): string | undefined {
  const id = readCookie(event, SESSION_COOKIE);
  return id && SESSION_ID.test(id) ? id : undefined;
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
  await deps.loginSessions.start(hashSessionId(id), session);
  return { cookie: serializeCookie(SESSION_COOKIE, id, { path: '/', maxAge: SESSION_SECONDS, secure: p.secure }), session };
}

/** The live session of the request's cookie, if any (expiry checked on read). */
export async function currentLoginSession(deps: LoginSessionDeps, tenant: string, event: HttpEvent): Promise<LoginSession | undefined> {
  const id = sessionIdOf(event);
  return id ? deps.loginSessions.liveSession(tenant, hashSessionId(id)) : undefined;
}

/** Ends the request's session (if any); returns the Set-Cookie value that clears the cookie. */
export async function endLoginSession(deps: LoginSessionDeps, tenant: string, event: HttpEvent, secure: boolean): Promise<{ cookie: string; ended?: LoginSession }> {
  const ended = await currentLoginSession(deps, tenant, event);
  const id = sessionIdOf(event);
  if (id) await deps.loginSessions.end(tenant, hashSessionId(id));
  return { cookie: serializeCookie(SESSION_COOKIE, '', { path: '/', maxAge: 0, secure }), ended };
}
