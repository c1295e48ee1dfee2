/**
 * "Upstream token consumed": makes an upstream refresh token redeemable once. A request claims
 * the token's record (a lease) before calling the upstream; concurrent requests with the same
 * token wait for the owner's outcome instead of calling the upstream themselves. Writes are
 * ordered so that a crash leaves a record the next request repairs: a stale lease is taken over,
 * a `redeemed` record resumes from the sealed upstream answer.
 */
import { createHash } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Lease, UpstreamTokenRecord } from '../store/upstream-token-repository.js';
import { newId } from '../tokens/refresh-token-format.js';
import type { Deadline } from './deadline.js';

const DAY_S = 86_400;
const TTL_S = { redeeming: DAY_S, redeemed: 7 * DAY_S, minted: 30 * DAY_S, rejected: 600, transient: DAY_S } as const;
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 200;

export type LedgerClaim =
  /**
   * This request owns the token: `record.status` is `redeeming` (call the upstream) or `redeemed`
   * (resume). `booked`: the token was given a place in the budget's queue and its turn has come.
   */
  | { kind: 'owner'; lease: Lease; record: UpstreamTokenRecord; booked?: boolean }
  | { kind: 'minted' | 'rejected' | 'transient'; record: UpstreamTokenRecord; waited: boolean }
  /** Another request still holds the token and the time budget ran out waiting for it. */
  | { kind: 'busy' };

export interface TransientFailure {
  kind: 'rate_limited' | 'unavailable';
  reason: string;
  retry_after?: number;
  /** The fleet's budget gave the token a place in its queue at `retry_after` (see `LedgerClaim.booked`). */
  queued?: boolean;
}

/** A client told to come back at its turn in the queue is still served as such this long after it. */
const TURN_GRACE_MS = 15_000;

/**
 * What a claim does with the record another request left (the ledger's transitions, pure):
 * answer with a final or passing outcome, wait for a live lease, or take the record over (a
 * stale lease, an expired record, a passing failure past its retry time, sources not yet
 * tried) — resuming from the sealed answer of a `redeemed` record instead of asking again.
 */
export type ClaimStep = { kind: 'minted' | 'rejected' | 'transient' | 'wait' | 'take_over' | 'resume' };

export function nextClaimStep(
  seen: UpstreamTokenRecord,
  at: { nowMs: number; nowS: number; sourceIds: string[]; waited: boolean },
): ClaimStep {
  const live = seen.ttl > at.nowS;
  if (live) {
    if (seen.status === 'minted') return { kind: 'minted' };
    if (seen.status === 'rejected' && at.sourceIds.every((id) => seen.rejected_by?.includes(id))) return { kind: 'rejected' };
    if (seen.status === 'transient' && (at.waited || (seen.retry_at ?? 0) > at.nowMs)) return { kind: 'transient' };
    if ((seen.status === 'redeeming' || seen.status === 'redeemed') && (seen.lease_until ?? 0) > at.nowMs) return { kind: 'wait' };
  }
  return { kind: live && seen.status === 'redeemed' && !!seen.sealed_answer ? 'resume' : 'take_over' };
}

/** A record left by a refusal that gave the token a place in the budget's queue, whose turn is now. */
export function turnHasCome(seen: UpstreamTokenRecord, nowMs: number): boolean {
  return seen.status === 'transient' && !!seen.failure?.queued && (seen.retry_at ?? 0) <= nowMs && nowMs <= (seen.retry_at ?? 0) + TURN_GRACE_MS;
}

export function upstreamTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function createUpstreamTokenLedger(
  deps: Pick<Deps, 'upstreamTokens' | 'now'>,
  p: { tenant: string; token: string; leaseMs: number },
) {
  const repo = deps.upstreamTokens;
  const hash = upstreamTokenHash(p.token);
  const nowS = () => Math.floor(deps.now() / 1000);
  let ownedVersion = 0;

  const freshRecord = (lease: Lease, nowMs: number): UpstreamTokenRecord => ({
    tenant: p.tenant,
    token_hash: hash,
    status: 'redeeming',
    version: 1,
    ...lease,
    updated_at: nowMs,
    ttl: nowS() + TTL_S.redeeming,
  });

  const asOwner = async (lease: Lease, fields: Partial<UpstreamTokenRecord>) => {
    const ok = await repo.updateAsOwner(p.tenant, hash, lease.lease_id, { ...fields, updated_at: deps.now() });
    if (ok) ownedVersion += 1;
    return ok;
  };

  async function claim(sourceIds: string[], deadline: Deadline): Promise<LedgerClaim> {
    let waited = false;
    let pollMs = FIRST_POLL_MS;
    for (let first = true; ; first = false) {
      const nowMs = deps.now();
      const lease: Lease = { lease_id: newId(), lease_until: nowMs + p.leaseMs };
      const fresh = freshRecord(lease, nowMs);
      if (first) {
        // A first request creates the record; a client back when it was told to (after a
        // refusal) owns its record as its turn: one request either way.
        const owned = await repo.createOrTakeOverDueRetry({ ...fresh, ...lease }, nowMs);
        if (owned) {
          const record: UpstreamTokenRecord = owned.before ? { ...fresh, version: owned.before.version + 1 } : fresh;
          ownedVersion = record.version;
          return { kind: 'owner', lease, record, ...(owned.before && turnHasCome(owned.before, nowMs) ? { booked: true } : {}) };
        }
      } else if (await repo.create(fresh)) {
        ownedVersion = fresh.version;
        return { kind: 'owner', lease, record: fresh };
      }
      const seen = await repo.get(p.tenant, hash);
      if (!seen) continue;
      const step = nextClaimStep(seen, { nowMs, nowS: nowS(), sourceIds, waited });
      if (step.kind === 'minted' || step.kind === 'rejected' || step.kind === 'transient') return { kind: step.kind, record: seen, waited };
      if (step.kind === 'wait') {
        if (deadline.remainingMs() <= pollMs) return { kind: 'busy' };
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
        waited = true;
        continue;
      }
      const resume = step.kind === 'resume';
      const next: UpstreamTokenRecord = resume
        ? { ...seen, ...lease, version: seen.version + 1, updated_at: nowMs }
        : { ...fresh, version: seen.version + 1 };
      if (await repo.replace(next, seen.version)) {
        ownedVersion = next.version;
        return { kind: 'owner', lease, record: next, ...(turnHasCome(seen, nowMs) ? { booked: true } : {}) };
      }
      if (deadline.expired()) return { kind: 'busy' };
    }
  }

  return {
    hash,
    /** The string the sealed answer is bound to (its record's key). */
    boundTo: `${p.tenant}/${hash}`,
    claim,

    /** The upstream accepted the token: keep its answer (sealed) before anything else can fail. */
    markRedeemed: (lease: Lease, f: { sourceId: string; sealedAnswer: string; clientId: string }) =>
      asOwner(lease, {
        status: 'redeemed',
        source_id: f.sourceId,
        sealed_answer: f.sealedAnswer,
        client_id: f.clientId,
        ttl: nowS() + TTL_S.redeemed,
      }),

    markRejected: (lease: Lease, rejectedBy: string[]) =>
      asOwner(lease, { status: 'rejected', rejected_by: rejectedBy, lease_until: 0, ttl: nowS() + TTL_S.rejected }),

    markTransient: (lease: Lease, failure: TransientFailure) =>
      asOwner(lease, {
        status: 'transient',
        failure,
        lease_until: 0,
        retry_at: deps.now() + (failure.retry_after ?? 0) * 1000,
        ttl: nowS() + TTL_S.transient,
      }),

    /** Gives the lease back after a later step failed, so the client's retry resumes at once. */
    release: (lease: Lease) => asOwner(lease, { lease_until: 0 }),

    /**
     * The final record, written in the same BatchWrite as the new family and the log events.
     * The sealed answer is dropped: once minted, the upstream's tokens are of no further use.
     */
    mintedItem(lease: Lease, f: Pick<UpstreamTokenRecord, 'source_id' | 'client_id' | 'user_id' | 'family_id' | 'refresh_token_id' | 'family_absolute_exp' | 'scope' | 'refresh_scope' | 'audience'>) {
      const record: UpstreamTokenRecord = {
        tenant: p.tenant,
        token_hash: hash,
        status: 'minted',
        version: ownedVersion + 1,
        lease_id: lease.lease_id,
        lease_until: 0,
        ...f,
        minted_at: nowS(),
        updated_at: deps.now(),
        ttl: nowS() + TTL_S.minted,
      };
      return repo.item(record);
    },
  };
}

export type UpstreamTokenLedger = ReturnType<typeof createUpstreamTokenLedger>;
