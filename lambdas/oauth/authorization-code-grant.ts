import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { hashAuthorizationCode } from '../store/authorization-code-repository.js';
import type { ClientRecord } from '../store/records.js';
import { OAuthError } from './errors.js';
import { issueUserTokens, type IssueTokensDeps, type TokenResponse } from './issue-tokens.js';
import { parseFields } from './token-request.js';

export const authorizationCodeRequest = z.object({
  code: z.string().check(z.minLength(1), z.maxLength(200)),
  redirect_uri: z.optional(z.string().check(z.maxLength(2048))),
  code_verifier: z.optional(z.string().check(z.maxLength(200))),
});

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export function pkceChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export type AuthorizationCodeGrantDeps = Pick<Deps, 'authorizationCodes' | 'now' | 'users' | 'refreshTokens'> & IssueTokensDeps;

/**
 * `authorization_code` (+ PKCE). The code must be unexpired and presented by its client, with
 * its redirect_uri and, when it was issued with a challenge, the matching S256 verifier; all of
 * that is checked before the code is consumed. Then it is redeemed once, atomically: a second
 * presentation that passes the same checks fails and revokes the refresh-token family the
 * first one started.
 */
export async function authorizationCodeGrant(
  deps: AuthorizationCodeGrantDeps,
  ctx: TenantContext,
  client: ClientRecord,
  body: Record<string, string>,
): Promise<TokenResponse> {
  const req = parseFields(authorizationCodeRequest, body);
  const repo = deps.authorizationCodes;
  const codeHash = hashAuthorizationCode(req.code);
  const nowSeconds = Math.floor(deps.now() / 1000);
  const baseEvent = { client_id: client.client_id, client_name: client.name };
  const fail = async (reason: string, description: string, userId?: string): Promise<never> => {
    ctx.log.add({ ...baseEvent, type: 'feacft', reason, user_id: userId });
    await ctx.log.flush();
    throw new OAuthError(403, 'invalid_grant', description);
  };

  // Every binding is checked on a read before the code is consumed: a wrong client, verifier or
  // redirect_uri (someone holding an intercepted code) neither burns the code nor revokes anything.
  const stored = await repo.get(ctx.tenant, codeHash);
  if (!stored || stored.tenant !== ctx.tenant) return fail('unknown_code', 'Invalid authorization code');
  if (stored.expires_at <= nowSeconds) return fail('code_expired', 'Invalid authorization code', stored.user_id);
  if (stored.client_id !== client.client_id) return fail('client_mismatch', 'Invalid authorization code', stored.user_id);
  if (req.redirect_uri !== stored.redirect_uri) return fail('redirect_uri_mismatch', 'Invalid redirect_uri.', stored.user_id);
  if (stored.code_challenge) {
    if (!req.code_verifier || !VERIFIER.test(req.code_verifier) || pkceChallengeOf(req.code_verifier) !== stored.code_challenge) {
      return fail('pkce_verification_failed', 'Failed to verify code verifier', stored.user_id);
    }
  } else if (req.code_verifier !== undefined) {
    return fail('pkce_not_requested', 'Failed to verify code verifier', stored.user_id);
  }

  const redeemed = stored.status === 'issued' ? await repo.redeem(ctx.tenant, codeHash, nowSeconds) : { outcome: 'already_redeemed' as const };
  if (redeemed.outcome === 'missing') return fail('unknown_code', 'Invalid authorization code');
  if (redeemed.outcome === 'already_redeemed') {
    // A replay by the code's own client, with its verifier: the tokens the first exchange issued are revoked.
    const familyId = await repo.markReplayed(ctx.tenant, codeHash, nowSeconds);
    if (familyId) await deps.refreshTokens.revokeFamily(familyId, nowSeconds, 'authorization_code_reuse');
    return fail('code_reused', 'Invalid authorization code', stored.user_id);
  }
  const code = redeemed.code;
  const user = await deps.users.getUser(ctx.tenant, code.user_id);
  if (!user) return fail('user_not_found', 'Invalid authorization code', code.user_id);
  if (user.blocked) return fail('user_blocked', 'user is blocked', user.user_id);

  const issued = await issueUserTokens(deps, ctx, {
    client,
    user,
    scope: code.scope,
    audience: code.audience,
    grantType: 'authorization_code',
    nonce: code.nonce,
    authTime: code.auth_time,
    sid: code.sid,
  });
  ctx.log.add({ ...baseEvent, type: 'seacft', user_id: user.user_id, user_name: user.email ?? user.username });
  await ctx.log.flush(issued.items);
  if (issued.familyId && (await repo.recordFamily(ctx.tenant, codeHash, issued.familyId))) {
    // A replay arrived while this exchange was minting: what it issued is revoked too.
    await deps.refreshTokens.revokeFamily(issued.familyId, nowSeconds, 'authorization_code_reuse');
  }
  return issued.response;
}
