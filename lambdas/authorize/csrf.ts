import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HttpEvent } from '../http/event.js';
import { readCookie, serializeCookie } from './cookies.js';

/**
 * CSRF protection of the login form: a random token whose hash is stored with the pending
 * authorization request, sent both as an HttpOnly SameSite=Lax cookie scoped to the login page
 * and as a hidden form field. A POST needs all three to agree, so another site can neither
 * forge the form (no cookie on a cross-site POST) nor log the browser into a transaction that
 * it did not start.
 */
export const LOGIN_PATH = '/u/login';

export function newCsrfToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashCsrfToken(token) };
}

export function hashCsrfToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** One cookie per pending transaction, so two tabs signing in at once do not collide. */
export function csrfCookieName(transactionId: string): string {
  return `_csrf_${transactionId}`;
}

export function csrfCookie(transactionId: string, token: string, secure: boolean, maxAge: number): string {
  return serializeCookie(csrfCookieName(transactionId), token, { path: LOGIN_PATH, maxAge, secure });
}

export function clearCsrfCookie(transactionId: string, secure: boolean): string {
  return serializeCookie(csrfCookieName(transactionId), '', { path: LOGIN_PATH, maxAge: 0, secure });
}

/** The CSRF token of the browser's cookie for this transaction, if it matches the stored hash. */
export function csrfTokenFromCookie(event: HttpEvent, transactionId: string, storedHash: string): string | undefined {
  const token = readCookie(event, csrfCookieName(transactionId));
  return token && sameHash(hashCsrfToken(token), storedHash) ? token : undefined;
}

export type CsrfCheck = 'ok' | 'missing' | 'mismatch';

/** Checks the form field against the cookie and the stored hash. */
export function checkCsrf(event: HttpEvent, transactionId: string, storedHash: string, formToken: string | undefined): CsrfCheck {
  const cookieToken = readCookie(event, csrfCookieName(transactionId));
  if (!formToken || !cookieToken) return 'missing';
  const formHash = hashCsrfToken(formToken);
  if (!sameHash(formHash, hashCsrfToken(cookieToken))) return 'mismatch';
  return sameHash(formHash, storedHash) ? 'ok' : 'mismatch';
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
