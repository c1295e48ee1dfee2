import { describe, expect, it } from 'vitest';
import { nextClaimStep, type ClaimStep } from '../../lambdas/migration/upstream-token-ledger.js';
import type { UpstreamTokenRecord } from '../../lambdas/store/upstream-token-repository.js';

/** The ledger's transitions, one row each: the record another request left, and what a claim does with it. */
const NOW_MS = 1_900_000_000_000;
const NOW_S = NOW_MS / 1000;
const base: UpstreamTokenRecord = { tenant: 't1', token_hash: 'h', status: 'redeeming', version: 3, updated_at: NOW_MS - 1000, ttl: NOW_S + 100 };
const leased = { lease_id: 'l1', lease_until: NOW_MS + 5000 };
const stale = { lease_id: 'l1', lease_until: NOW_MS - 1 };

const rows: Array<[string, Partial<UpstreamTokenRecord>, { waited?: boolean; sourceIds?: string[] }, ClaimStep['kind']]> = [
  ['minted: answered from the record', { status: 'minted' }, {}, 'minted'],
  ['minted but past its TTL (not yet deleted): taken over', { status: 'minted', ttl: NOW_S }, {}, 'take_over'],
  ['rejected by every source asked now', { status: 'rejected', rejected_by: ['s1', 's2'] }, { sourceIds: ['s1'] }, 'rejected'],
  ['rejected, but a source not tried then: taken over', { status: 'rejected', rejected_by: ['s1'] }, { sourceIds: ['s1', 's2'] }, 'take_over'],
  ['a passing failure before its retry time', { status: 'transient', retry_at: NOW_MS + 1000 }, {}, 'transient'],
  ['a passing failure past its retry time: asked again', { status: 'transient', retry_at: NOW_MS }, {}, 'take_over'],
  ['a passing failure the claim waited for: answered with it', { status: 'transient', retry_at: NOW_MS }, { waited: true }, 'transient'],
  ['redeeming under a live lease: wait', { status: 'redeeming', ...leased }, {}, 'wait'],
  ['redeemed under a live lease: wait', { status: 'redeemed', sealed_answer: 'x', ...leased }, {}, 'wait'],
  ['redeeming under a stale lease (owner crashed before the upstream answered): taken over', { status: 'redeeming', ...stale }, {}, 'take_over'],
  ['redeemed under a stale lease: resumed from the sealed answer', { status: 'redeemed', sealed_answer: 'x', ...stale }, {}, 'resume'],
  ['redeemed without a sealed answer: taken over', { status: 'redeemed', ...stale }, {}, 'take_over'],
  ['redeemed, sealed, but past its TTL: taken over, never resumed', { status: 'redeemed', sealed_answer: 'x', ...stale, ttl: NOW_S }, {}, 'take_over'],
];

describe('upstream token ledger: what a claim does with the record it finds', () => {
  it.each(rows)('%s', (_name, record, at, kind) => {
    const step = nextClaimStep({ ...base, ...record }, { nowMs: NOW_MS, nowS: NOW_S, sourceIds: at.sourceIds ?? ['s1'], waited: at.waited ?? false });
    expect(step.kind).toBe(kind);
  });
});
