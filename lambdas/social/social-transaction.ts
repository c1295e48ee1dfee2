import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthorizeRequest } from '../authorize/authorize-request.js';
import { readCookie } from '../authorize/cookies.js';
import type { Deps } from '../deps.js';
import type { HttpEvent } from '../http/event.js';
import type { SocialTransactionRecord } from '../store/login-records.js';

/** What a social transaction uses: the pending logins' store and the clock. */
export type SocialTransactionDeps = Pick<Deps, 'socialTransactions' | 'now'>;

/** How long the user may spend at the provider. */
export const SOCIAL_TRANSACTION_SECONDS = 15 * 60;
export const CALLBACK_PATH = '/login/callback';

/**
 * A login sent to a provider and waiting for its answer at `/login/callback`
 * (store/login-records.ts): its id is the `state` sent to the provider. Consumed once.
 */
export type SocialTransaction = SocialTransactionRecord;

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
  // A fresh random id is never taken; if it were, nothing may be overwritten.
  if (!(await deps.socialTransactions.create(tx)).ok) throw new Error('social transaction id already taken');
  return { tx, browserToken };
}

export async function findSocialTransaction(deps: SocialTransactionDeps, tenant: string, state: string | undefined): Promise<SocialTransaction | undefined> {
  if (!state || !STATE.test(state)) return undefined;
  return deps.socialTransactions.liveTransaction(tenant, state);
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
  return deps.socialTransactions.end(tenant, id);
}
