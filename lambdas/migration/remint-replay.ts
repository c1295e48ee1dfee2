/**
 * An upstream refresh token presented again after it was re-minted never reaches the upstream.
 * Within the client's `leeway` (two tabs racing on the old token, a retry after a lost answer)
 * it gets tokens of the family the re-mint started, as a rotating token within its leeway does.
 * After the leeway it is reuse: the family is revoked and the event logged as `ferrt`. A request
 * that was already waiting while the re-mint ran is concurrent, not a replay: outside the
 * leeway it is refused without revoking the family the first request just received.
 */
import type { Deps } from '../deps.js';
import type { IssueTokensDeps } from '../oauth/issue-tokens.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { AuthEvent } from '../logs/request-writes.js';
import { oauthErrors } from '../oauth/errors.js';
import { issueUserTokens, type TokenResponse } from '../oauth/issue-tokens.js';
import { narrowScope } from '../oauth/refresh-token-grant.js';
import type { ClientRecord } from '../store/records.js';
import type { UpstreamTokenRecord } from '../store/upstream-token-repository.js';

export async function answerRemintReplay(
  deps: Pick<Deps, 'now'> & IssueTokensDeps,
  ctx: TenantContext,
  p: { client: ClientRecord; scope?: string; record: UpstreamTokenRecord; waited: boolean; baseEvent: Partial<AuthEvent> },
): Promise<TokenResponse> {
  const { client, record } = p;
  const event = { ...p.baseEvent, user_id: record.user_id };
  const refuse = async (type: 'fertft' | 'ferrt', reason: string, error = oauthErrors.invalidRefreshToken()): Promise<never> => {
    ctx.log.add({ ...event, type, reason, details: { replay: true } });
    await ctx.log.flush();
    throw error;
  };

  if (record.client_id !== client.client_id || !record.user_id) return refuse('fertft', 'client_mismatch');
  const nowSeconds = Math.floor(deps.now() / 1000);
  const leeway = client.refresh_token.leeway ?? 0;
  const withinLeeway = leeway > 0 && record.minted_at !== undefined && nowSeconds - record.minted_at <= leeway;
  if (!withinLeeway) {
    if (p.waited) return refuse('ferrt', 'concurrent_reuse');
    if (record.family_id) await deps.refreshTokens.revokeFamily(record.family_id, nowSeconds, 'upstream_token_reuse');
    return refuse('ferrt', 'reuse_detected');
  }

  const { user, family, minted } = await deps.refreshTokens.readRemint(ctx.tenant, {
    userId: record.user_id,
    familyId: record.family_id,
    tokenId: record.refresh_token_id,
  });
  // As for a local rotating token: only while the token the mint issued is unused may the old one be replayed.
  if (minted?.status === 'rotated') {
    if (record.family_id) await deps.refreshTokens.revokeFamily(record.family_id, nowSeconds, 'upstream_token_reuse');
    return refuse('ferrt', 'reuse_detected');
  }
  if (!user) return refuse('fertft', 'user_not_found');
  if (user.blocked) return refuse('fertft', 'user_blocked', oauthErrors.userBlockedOnRefresh());
  if (family && family.status !== 'active') return refuse('fertft', 'family_revoked');

  const grantedScope = record.scope ?? '';
  const issued = await issueUserTokens(deps, ctx, {
    client,
    user,
    scope: narrowScope(grantedScope, p.scope),
    refreshTokenScope: record.refresh_scope ?? grantedScope,
    audience: record.audience,
    grantType: 'refresh_token',
    // A family lost to a crash between the final writes is started anew rather than refusing the client.
    family: family ? { family_id: family.family_id, absolute_exp: family.absolute_exp } : undefined,
    migration: 'refresh_remint',
  });
  ctx.log.add({ ...event, type: 'sertft', user_name: user.email, details: { replay: true, migration_source: record.source_id } });
  await ctx.log.flush(issued.items);
  return issued.response;
}
