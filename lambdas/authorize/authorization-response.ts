import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { HttpResponse } from '../http/responses.js';
import { hashAuthorizationCode } from '../store/authorization-code-repository.js';
import type { UserRecord } from '../store/records.js';
import type { AuthorizeRequest, ReplyTarget } from './authorize-request.js';
import { cspNonce, escapeHtml, html, page, redirect } from './html.js';

/** Codes are short-lived: the client redeems them right after the redirect. */
export const AUTHORIZATION_CODE_SECONDS = 60;

/** Stores a one-time code bound to the client, redirect_uri, PKCE challenge, scope and nonce. */
export async function issueAuthorizationCode(
  deps: Pick<Deps, 'authorizationCodes' | 'now'>,
  ctx: TenantContext,
  request: AuthorizeRequest,
  user: UserRecord,
  authTime: number,
  sid?: string,
): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  const now = Math.floor(deps.now() / 1000);
  const stored = await deps.authorizationCodes.put(hashAuthorizationCode(code), {
    tenant: ctx.tenant,
    client_id: request.client_id,
    redirect_uri: request.redirect_uri,
    user_id: user.user_id,
    scope: request.scope,
    audience: request.audience,
    nonce: request.nonce,
    code_challenge: request.code_challenge,
    code_challenge_method: request.code_challenge_method,
    auth_time: authTime,
    ...(sid ? { sid } : {}),
    expires_at: now + AUTHORIZATION_CODE_SECONDS,
    status: 'issued',
    ttl: now + AUTHORIZATION_CODE_SECONDS + 3600,
  });
  // A fresh random code is never taken; if it were, nothing may be overwritten.
  if (!stored.ok) throw new Error('authorization code already taken');
  return code;
}

/**
 * Sends parameters back to the client's redirect_uri: appended to its query (`query`) or as an
 * auto-submitted form (`form_post`). `state` is always returned as received.
 */
export function replyToClient(target: ReplyTarget, params: Record<string, string | undefined>, cookies: string[] = []): HttpResponse {
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...params, state: target.state })) if (v !== undefined) all[k] = v;
  if (target.response_mode === 'form_post') {
    const nonce = cspNonce();
    const inputs = Object.entries(all)
      .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
      .join('\n');
    const content = `<h1>Signing you in…</h1>
<form method="post" action="${escapeHtml(target.redirect_uri)}" id="reply">
${inputs}
<noscript><button type="submit">Continue</button></noscript>
</form>
<script nonce="${nonce}">document.getElementById('reply').submit();</script>`;
    return html(200, page('Signing in', nonce, content), nonce, { cookies });
  }
  const url = new URL(target.redirect_uri);
  for (const [k, v] of Object.entries(all)) url.searchParams.set(k, v);
  return redirect(url.toString(), cookies);
}

/** An OAuth error sent back to the client (the redirectable kind). */
export function replyError(target: ReplyTarget, error: string, description: string, cookies: string[] = []): HttpResponse {
  return replyToClient(target, { error, error_description: description }, cookies);
}
