/**
 * Redeems an upstream refresh token at every enabled migration source at once and takes the
 * first that accepts, so the latency is one upstream round trip whatever the number of sources.
 * Each source goes through the shared upstream client (per-call timeout, the request's budget,
 * a circuit breaker keyed by the source id).
 */
import type { Deps } from '../deps.js';
import type { MigrationSourceRecord } from '../store/records.js';
import type { Deadline } from './deadline.js';
import { upstreamEndpoints, type SourceSecrets } from './migration-sources.js';
import type { CallBudget, UpstreamFailure, UpstreamTokenResponse } from './upstream-client.js';
import type { TransientFailure } from './upstream-token-ledger.js';
import { DEFAULT_REQUESTS_PER_SECOND } from './upstream-budget.js';

/** The fleet-wide call budget of a source's upstream. */
export const sourceRate = (source: MigrationSourceRecord): number => source.rate_limit?.requests_per_second ?? DEFAULT_REQUESTS_PER_SECOND;

export type Redemption =
  | { kind: 'accepted'; source: MigrationSourceRecord; answer: UpstreamTokenResponse; reasons: Record<string, string> }
  /** Every source said the token is not theirs or is dead (`invalid_grant`). */
  | { kind: 'rejected'; reasons: Record<string, string> }
  /** No source accepted and at least one could not answer properly: the client may retry. */
  | { kind: 'transient'; failure: TransientFailure; reasons: Record<string, string> };

/** What a re-mint spends at a source: only free capacity (logins come first), for its token call and, unless the id_token gives the profile, its /userinfo. */
const redemptionBudget = (tenant: string, source: MigrationSourceRecord, booked?: boolean): CallBudget => ({
  tenant,
  requestsPerSecond: sourceRate(source),
  priority: 'background',
  calls: source.profile_from === 'id_token' ? 1 : 2,
  ...(booked ? { booked: true } : {}),
});

/**
 * Leases the upstream calls of a redemption at these sources while the caller does something
 * else first (claims the token's ledger record), so the calls wait for no budget round trip.
 */
export function prepareRedemption(deps: Pick<Deps, 'upstreamBudget' | 'config'>, p: { tenant: string; sources: MigrationSourceRecord[] }): void {
  for (const source of p.sources) {
    const upstream = new URL(upstreamEndpoints(source.credentials.domain, deps.config.allowLoopbackHttp).tokenEndpoint).host;
    deps.upstreamBudget.prepare({ ...redemptionBudget(p.tenant, source), upstream, maxWaitMs: 0 });
  }
}

type Attempt = { ok: true; answer: UpstreamTokenResponse } | { ok: false; failure: UpstreamFailure | SecretFailure };
type SecretFailure = { kind: 'secret'; reason: 'secret_missing' | 'secret_unreadable' };

export async function redeemAtSources(
  deps: Pick<Deps, 'upstream' | 'config'>,
  p: { tenant: string; sources: MigrationSourceRecord[]; refreshToken: string; deadline: Deadline; secrets: SourceSecrets; booked?: boolean },
): Promise<Redemption> {
  const attempt = async (source: MigrationSourceRecord): Promise<Attempt> => {
    const secret = await p.secrets.secretOf(p.tenant, source);
    if (!secret.ok) return { ok: false, failure: { kind: 'secret', reason: secret.reason } };
    try {
      const result = await deps.upstream.refreshToken({
        breakerKey: source.id,
        // A re-mint takes only free capacity (logins come first) and is told when to come back.
        budget: redemptionBudget(p.tenant, source, p.booked),
        tokenEndpoint: upstreamEndpoints(source.credentials.domain, deps.config.allowLoopbackHttp).tokenEndpoint,
        clientId: source.credentials.client_id,
        clientSecret: secret.secret,
        refreshToken: p.refreshToken,
        deadline: p.deadline,
      });
      return result.ok ? { ok: true, answer: result.value } : { ok: false, failure: result.failure };
    } catch {
      return { ok: false, failure: { kind: 'unavailable', reason: 'network' } };
    }
  };

  if (p.sources.length === 0) return { kind: 'rejected', reasons: {} };
  return new Promise<Redemption>((resolve) => {
    const reasons: Record<string, string> = {};
    const failures: (UpstreamFailure | SecretFailure)[] = [];
    let pending = p.sources.length;
    let settled = false;
    for (const source of p.sources) {
      void attempt(source).then((outcome) => {
        reasons[source.id] = outcome.ok ? 'accepted' : reasonOf(outcome.failure);
        if (outcome.ok && !settled) {
          settled = true;
          resolve({ kind: 'accepted', source, answer: outcome.answer, reasons });
        }
        if (!outcome.ok) failures.push(outcome.failure);
        pending -= 1;
        if (pending === 0 && !settled) {
          settled = true;
          const transient = combineTransient(failures);
          resolve(transient ? { kind: 'transient', failure: transient, reasons } : { kind: 'rejected', reasons });
        }
      });
    }
  });
}

/** `invalid_grant` is the token's fault; any other rejection is the source's configuration (retryable). */
function isTokenRejection(failure: UpstreamFailure | SecretFailure): boolean {
  return failure.kind === 'rejected' && failure.error === 'invalid_grant';
}

function reasonOf(failure: UpstreamFailure | SecretFailure): string {
  switch (failure.kind) {
    case 'rejected':
      return failure.error === 'invalid_grant' ? 'invalid_grant' : `upstream_${failure.error}`;
    case 'rate_limited':
      return 'rate_limited';
    case 'unavailable':
      return failure.reason;
    case 'secret':
      return failure.reason;
  }
}

/** The retryable answer for a set of failures, or undefined when all of them were token rejections. */
export function combineTransient(failures: (UpstreamFailure | SecretFailure)[]): TransientFailure | undefined {
  const passing = failures.filter((f) => !isTokenRejection(f));
  if (passing.length === 0) return undefined;
  const limited = passing.filter((f): f is Extract<UpstreamFailure, { kind: 'rate_limited' }> => f.kind === 'rate_limited');
  if (limited.length > 0) {
    // A place in the budget's queue is kept only when every limit was the budget's own refusal with one.
    const queued = limited.length === passing.length && limited.every((f) => f.queued);
    // Refused by the fleet's own budget only: the upstream was never asked (the drain's `not_called`).
    const ownBudget = limited.length === passing.length && limited.every((f) => f.scope === 'budget');
    return {
      kind: 'rate_limited',
      reason: ownBudget ? 'upstream_budget_exhausted' : 'rate_limited',
      retry_after: Math.max(1, ...limited.map((f) => f.retryAfterSeconds)),
      ...(queued ? { queued: true } : {}),
    };
  }
  const retryAfters = passing.map((f) => (f.kind === 'unavailable' ? f.retryAfterSeconds : undefined)).filter((s): s is number => !!s);
  return {
    kind: 'unavailable',
    reason: reasonOf(passing[0]),
    ...(retryAfters.length ? { retry_after: Math.max(...retryAfters) } : {}),
  };
}
