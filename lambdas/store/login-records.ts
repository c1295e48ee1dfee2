/**
 * Shapes of the browser login's items (without pk/sk): pending logins (the login page, a social
 * provider), login sessions and the one-time codes a login ends with. Apart from records.ts, which holds the other items, to keep both short.
 */

export type ResponseMode = 'query' | 'form_post';

/** A validated `/authorize` request, stored with the pending login and bound to the code. */
export interface AuthorizeRequest {
  client_id: string;
  redirect_uri: string;
  response_mode: ResponseMode;
  scope: string;
  audience?: string;
  state?: string;
  nonce?: string;
  code_challenge?: string;
  code_challenge_method?: 'S256';
  connection_id: string;
  prompt?: 'none' | 'login';
  /** Seconds: a session signed in longer ago than this must sign in again (OIDC `max_age`). */
  max_age?: number;
  /** Prefills the email field of the login page. */
  login_hint?: string;
}

/** A pending authorization request waiting for the login page, stored server-side. */
export interface LoginTransactionRecord {
  id: string;
  tenant: string;
  request: AuthorizeRequest;
  /** SHA-256 of the CSRF token the login form and its cookie must both carry. */
  csrf_hash: string;
  /** Epoch seconds; refused after (checked on read), removed by the table's TTL later. */
  expires_at: number;
  ttl: number;
}

/**
 * A login sent to a provider and waiting for its answer at `/login/callback`. Its id is the
 * `state` sent to the provider; the browser that started it holds a cookie whose hash is stored
 * here, so a callback from another browser (login CSRF) is refused. Consumed once.
 */
export interface SocialTransactionRecord {
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

/** A login session, stored under a hash of its cookie's id (the cookie value is never stored). */
export interface LoginSessionRecord {
  tenant: string;
  user_id: string;
  connection_id: string;
  /** Epoch seconds of the password login that started the session. */
  auth_time: number;
  /** The session's public id (the id token's `sid`); never the cookie value. */
  sid?: string;
  /** Epoch seconds; refused after (checked on read), removed by the table's TTL later. */
  expires_at: number;
  ttl: number;
}

/** What a code was issued for; the token endpoint checks every binding before it mints. */
export interface AuthorizationCodeItem {
  tenant: string;
  client_id: string;
  redirect_uri: string;
  user_id: string;
  scope: string;
  audience?: string;
  nonce?: string;
  code_challenge?: string;
  code_challenge_method?: 'S256';
  auth_time: number;
  /** The login session's public id, for the id token's `sid`. */
  sid?: string;
  /** Epoch seconds after which the code is refused (checked on read). */
  expires_at: number;
  status: 'issued' | 'redeemed';
  redeemed_at?: number;
  /** The refresh-token family the redemption started, revoked if the code is replayed. */
  family_id?: string;
  /** Set when a redeemed code was presented again. */
  replayed_at?: number;
  ttl: number;
}

export type RedeemOutcome =
  | { outcome: 'redeemed'; code: AuthorizationCodeItem }
  | { outcome: 'already_redeemed' }
  | { outcome: 'missing' };
