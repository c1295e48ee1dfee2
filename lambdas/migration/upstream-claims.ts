/**
 * Who the upstream says the redeemed token belongs to. `profile_from: "userinfo"` (default)
 * asks `GET /userinfo` with the upstream access token; `profile_from: "id_token"` takes the
 * claims of the upstream id_token from the same token response, verified against the upstream
 * JWKS (cached), saving one upstream round trip. Each way falls back to the other when it cannot
 * answer (no id_token, JWKS unreachable, userinfo refusing the access token).
 */
import { decodeJwt } from 'jose';
import type { Deps } from '../deps.js';
import type { MigrationSourceRecord } from '../store/records.js';
import type { Deadline } from './deadline.js';
import { upstreamEndpoints } from './migration-sources.js';
import { sourceRate } from './redeem-at-sources.js';
import { spenderFor } from './upstream-budget.js';
import { interactiveWaitMs, type UpstreamFailure, type UpstreamTokenResponse } from './upstream-client.js';
import type { UpstreamIdTokenVerifier } from './upstream-id-token.js';
import type { UpstreamClaims } from './upstream-profile.js';
import type { TransientFailure } from './upstream-token-ledger.js';

export type ClaimsResult =
  | { ok: true; claims: UpstreamClaims; via: 'userinfo' | 'id_token' }
  | { ok: false; failure: TransientFailure };

export async function claimsFromUpstream(
  deps: Pick<Deps, 'upstream' | 'upstreamBudget' | 'config'>,
  p: { tenant: string; source: MigrationSourceRecord; answer: UpstreamTokenResponse; deadline: Deadline; verifier: UpstreamIdTokenVerifier },
): Promise<ClaimsResult> {
  const endpoints = upstreamEndpoints(p.source.credentials.domain, deps.config.allowLoopbackHttp);

  const fromIdToken = async (): Promise<ClaimsResult | undefined> => {
    if (!p.answer.id_token) return undefined;
    const verified = await p.verifier.verify(p.answer.id_token, {
      issuer: endpoints.issuer,
      audience: p.source.credentials.client_id,
      jwksUri: endpoints.jwksUri,
      // The upstream token is spent already: finishing this re-mint comes first.
      // It may wait as long as the re-mint's time allows: a refused download would send this
      // re-mint (and the next ones) to /userinfo, one upstream call each instead of one for all.
      spend: spenderFor(deps.upstreamBudget, { tenant: p.tenant, url: endpoints.jwksUri, requestsPerSecond: sourceRate(p.source), priority: 'interactive', maxWaitMs: interactiveWaitMs(p.deadline) }),
    });
    return verified.ok ? { ok: true, claims: verified.claims, via: 'id_token' } : undefined;
  };

  const fromUserinfo = async (): Promise<ClaimsResult> => {
    const result = await deps.upstream.userinfo({
      breakerKey: p.source.id,
      // The upstream token is spent already: finishing this re-mint comes before starting others.
      budget: { tenant: p.tenant, requestsPerSecond: sourceRate(p.source), priority: 'interactive' },
      userinfoEndpoint: endpoints.userinfoEndpoint,
      accessToken: p.answer.access_token,
      deadline: p.deadline,
    });
    if (result.ok) return { ok: true, claims: result.value, via: 'userinfo' };
    return { ok: false, failure: asTransient(result.failure) };
  };

  if (p.source.profile_from === 'id_token') return (await fromIdToken()) ?? fromUserinfo();
  const viaUserinfo = await fromUserinfo();
  if (viaUserinfo.ok || viaUserinfo.failure.reason !== 'userinfo_rejected') return viaUserinfo;
  return (await fromIdToken()) ?? viaUserinfo;
}

function asTransient(failure: UpstreamFailure): TransientFailure {
  if (failure.kind === 'rate_limited') return { kind: 'rate_limited', reason: 'userinfo_rate_limited', retry_after: failure.retryAfterSeconds };
  if (failure.kind === 'rejected') return { kind: 'unavailable', reason: 'userinfo_rejected' };
  return {
    kind: 'unavailable',
    reason: `userinfo_${failure.reason}`,
    ...(failure.retryAfterSeconds ? { retry_after: failure.retryAfterSeconds } : {}),
  };
}

/**
 * The claims of the upstream's id_token as sent, not verified: a hint of whom the answer is for
 * (which user to start looking up), never the profile itself.
 */
export function unverifiedIdTokenClaims(answer: UpstreamTokenResponse): UpstreamClaims | undefined {
  if (!answer.id_token) return undefined;
  try {
    const claims = decodeJwt(answer.id_token);
    return typeof claims.sub === 'string' && claims.sub ? (claims as UpstreamClaims) : undefined;
  } catch {
    return undefined;
  }
}
