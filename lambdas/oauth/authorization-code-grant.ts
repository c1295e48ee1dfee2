import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import { createAuthorizationCodeRepository, hashAuthorizationCode } from '../store/authorization-code-repository.js';
import type { ClientRecord } from '../store/records.js';
import { OAuthError } from './errors.js';
import { issueUserTokens, type TokenResponse } from './issue-tokens.js';
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

/**
 * `authorization_code` (+ PKCE). A code is redeemed once, atomically, whatever follows: a
 * second presentation fails and revokes the refresh-token family the first one started. The
 * code must be unexpired and presented by its client, with its redirect_uri and, when it was
 * issued with a challenge, the matching S256 verifier.
 */
export async function authorizationCodeGrant(
  deps: Deps,
  ctx: TenantContext,
  client: ClientRecord,
  body: Record<string, string>,
): Promise<TokenResponse> {
  const req = parseFields(authorizationCodeRequest, body);
  const repo = createAuthorizationCodeRepository(deps.db, deps.tableName);
  const codeHash = hashAuthorizationCode(req.code);
  const nowSeconds = Math.floor(deps.now() / 1000);
  const baseEvent = { client_id: client.client_id, client_name: client.name };
  const fail = async (reason: string, description: string, userId?: string): Promise<never> => {
    ctx.log.add({ ...baseEvent, type: 'feacft', reason, user_id: userId });
    await ctx.log.flush();
    throw new OAuthError(403, 'invalid_grant', description);
  };

  const redeemed = await repo.redeem(ctx.tenant, codeHash, nowSeconds);
  if (redeemed.outcome === 'missing') return fail('unknown_code', 'Invalid authorization code');
  if (redeemed.outcome === 'already_redeemed') {
    const familyId = await repo.markReplayed(ctx.tenant, codeHash, nowSeconds);
    if (familyId) await deps.refreshTokens.revokeFamily(familyId, nowSeconds, 'authorization_code_reuse');
    return fail('code_reused', 'Invalid authorization code');
  }
  const code = redeemed.code;
  if (code.tenant !== ctx.tenant || code.expires_at <= nowSeconds) return fail('code_expired', 'Invalid authorization code', code.user_id);
  if (code.client_id !== client.client_id) return fail('client_mismatch', 'Invalid authorization code', code.user_id);
  if (req.redirect_uri !== code.redirect_uri) return fail('redirect_uri_mismatch', 'Invalid redirect_uri.', code.user_id);
  if (code.code_challenge) {
    if (!req.code_verifier || !VERIFIER.test(req.code_verifier) || pkceChallengeOf(req.code_verifier) !== code.code_challenge) {
      return fail('pkce_verification_failed', 'Failed to verify code verifier', code.user_id);
    }
  } else if (req.code_verifier !== undefined) {
    return fail('pkce_not_requested', 'Failed to verify code verifier', code.user_id);
  }
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
  });
  ctx.log.add({ ...baseEvent, type: 'seacft', user_id: user.user_id, user_name: user.email ?? user.username });
  await ctx.log.flush(issued.items);
  if (issued.familyId && (await repo.recordFamily(ctx.tenant, codeHash, issued.familyId))) {
    // A replay arrived while this exchange was minting: what it issued is revoked too.
    await deps.refreshTokens.revokeFamily(issued.familyId, nowSeconds, 'authorization_code_reuse');
  }
  return issued.response;
}
