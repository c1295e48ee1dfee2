import type { Deps } from '../deps.js';
import type { TenantContext } from '../http/tenant-context.js';
import type { ClientRecord } from '../store/records.js';
import { type ConsumeOutcome, type RefreshFamilyItem, type RefreshTokenItem } from '../store/refresh-token-repository.js';
import { newId, parseRefreshToken } from '../tokens/refresh-token-format.js';
import { refreshValidity } from './refresh-validity.js';
import { oauthErrors } from './errors.js';
import { issueUserTokens, type IssueTokensDeps, type TokenResponse } from './issue-tokens.js';
import { parseFields, refreshRequest } from './token-request.js';

/** Narrows the original scope by a requested one, which must be a subset. */
export function narrowScope(original: string, requested: string | undefined): string {
  if (!requested) return original;
  const allowed = new Set(original.split(' '));
  const asked = requested.split(/\s+/).filter(Boolean);
  const outside = asked.filter((s) => !allowed.has(s));
  if (outside.length > 0) throw oauthErrors.invalidScope(`Scope not allowed: ${outside.join(' ').slice(0, 200)}`);
  return [...new Set(asked)].join(' ');
}

/**
 * `refresh_token` with Auth0's semantics: opaque tokens stored as hashes; per-client rotation;
 * reuse of a rotated token outside the leeway revokes the whole family (`ferrt`); absolute
 * lifetime fixed at first issue, idle lifetime renewed on use. Two DynamoDB round trips:
 * one BatchGet (token, family, user), then the conditional update that uses the token up
 * alongside the BatchWrite of the new token and the log (taken back if the use was refused).
 * A token this service did not issue goes to the foreign-token handler (migration sources).
 */
/** Renews the idle expiry of a non-rotating token (nothing to do for a non-expiring idle policy). */
async function renewIdleExpiry(deps: Pick<Deps, 'refreshTokens'>, token: RefreshTokenItem, family: RefreshFamilyItem, idleLifetime: number, nowSeconds: number) {
  const idleExp = token.idle_exp !== undefined ? nowSeconds + idleLifetime : undefined;
  await deps.refreshTokens.touch(token.token_id, idleExp, Math.min(idleExp ?? Infinity, family.absolute_exp ?? Infinity));
}

/** What the refresh grant uses: the refresh tokens, token issuance and the re-mint of foreign tokens. */
export type RefreshGrantDeps = Pick<Deps, 'now' | 'refreshTokens' | 'foreignRefreshToken'> & IssueTokensDeps;

export async function refreshTokenGrant(
  deps: RefreshGrantDeps,
  ctx: TenantContext,
  client: ClientRecord,
  body: Record<string, string>,
): Promise<TokenResponse> {
  const req = parseFields(refreshRequest, body);
  const baseEvent = { client_id: client.client_id, client_name: client.name };
  const fail = async (reason: string, event: Record<string, unknown> = {}): Promise<never> => {
    ctx.log.add({ ...baseEvent, ...event, type: 'fertft', reason });
    await ctx.log.flush();
    throw oauthErrors.invalidRefreshToken();
  };

  const parsed = parseRefreshToken(req.refresh_token);
  if (!parsed) {
    const foreign = await deps.foreignRefreshToken?.(ctx, { client, refreshToken: req.refresh_token, scope: req.scope });
    if (foreign) return foreign;
    return fail('unknown_refresh_token');
  }

  const read = await deps.refreshTokens.readExchange(ctx.tenant, parsed);
  const nowSeconds = Math.floor(deps.now() / 1000);
  const validity = refreshValidity({ parsed, ...read, tenant: ctx.tenant, clientId: client.client_id, nowSeconds });
  if (!validity.ok) {
    const event = validity.userId ? { user_id: validity.userId } : {};
    if (validity.reason !== 'user_blocked') return fail(validity.reason, event);
    ctx.log.add({ ...baseEvent, ...event, type: 'fertft', reason: 'user_blocked' });
    await ctx.log.flush();
    throw oauthErrors.userBlockedOnRefresh();
  }
  const { token, family, user } = validity;
  const event = { user_id: token.user_id };
  const scope = narrowScope(token.scope, req.scope);
  const policy = client.refresh_token;

  const successorId = newId();
  // Minted before anything is written: a failure here (e.g. the post-login extension denied)
  // leaves the presented token as it was.
  const issued = await issueUserTokens(deps, ctx, {
    client,
    user,
    scope,
    // The new refresh token keeps the family's full scope; only this response is narrowed.
    refreshTokenScope: token.scope,
    audience: token.audience,
    grantType: 'refresh_token',
    family: { family_id: family.family_id, absolute_exp: family.absolute_exp },
    skipRefreshToken: policy.rotation_type !== 'rotating',
    refreshTokenId: successorId,
  });

  // The token is used up and the new one stored at once (one round trip): the new token only
  // counts, and its log event only holds, once the use is known to be valid.
  const success = ctx.log.addTentative({ ...baseEvent, ...event, type: 'sertft', user_name: user.email });
  const use: Promise<ConsumeOutcome> =
    policy.rotation_type === 'rotating'
      ? deps.refreshTokens.consumeRotating(token.token_id, nowSeconds, policy.leeway ?? 0, successorId)
      : renewIdleExpiry(deps, token, family, policy.idle_token_lifetime, nowSeconds).then(() => 'consumed' as const);
  const [used, stored] = await Promise.allSettled([use, ctx.log.flush(issued.items)]);
  if (used.status === 'rejected' || used.value === 'reuse_detected') {
    // Nobody holds the new token: it and the event go.
    success.withdraw();
    for (const item of issued.items) ctx.log.deleteOnFlush({ pk: String(item.pk), sk: String(item.sk) });
    if (used.status === 'rejected') {
      await ctx.log.flush().catch(() => {});
      throw used.reason;
    }
    await deps.refreshTokens.revokeFamily(family.family_id, nowSeconds, 'reuse_detected');
    ctx.log.add({ ...baseEvent, ...event, type: 'ferrt', reason: 'reuse_detected' });
    await ctx.log.flush();
    throw oauthErrors.invalidRefreshToken();
  }
  if (stored.status === 'rejected') {
    // The new token was not stored, so the client will retry with this one: give it back.
    success.withdraw();
    if (policy.rotation_type === 'rotating') {
      await deps.refreshTokens.restoreAfterFailedRotation(token.token_id, successorId).catch(() => {});
    }
    throw stored.reason;
  }
  success.confirm();
  return issued.response;
}
