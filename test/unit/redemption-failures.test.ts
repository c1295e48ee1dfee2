import { describe, expect, it } from 'vitest';
import { migrationAttemptOf } from '../../lambdas/logs/migration-outcome.js';
import { combineTransient } from '../../lambdas/migration/redeem-at-sources.js';
import type { UpstreamFailure } from '../../lambdas/migration/upstream-answers.js';

/** What a re-mint answers and logs when its sources failed: the retry, the queue place, the drain outcome. */
const budgetQueued: UpstreamFailure = { kind: 'rate_limited', status: 429, scope: 'budget', retryAfterSeconds: 7, queued: true };
const budgetPaused: UpstreamFailure = { kind: 'rate_limited', status: 429, scope: 'budget', retryAfterSeconds: 2 };
const upstreamLimit: UpstreamFailure = { kind: 'rate_limited', status: 429, scope: 'global', retryAfterSeconds: 4 };
const deadToken: UpstreamFailure = { kind: 'rejected', status: 403, error: 'invalid_grant' };
const timeout: UpstreamFailure = { kind: 'unavailable', reason: 'timeout' };

const outcomeOf = (reason: string) => migrationAttemptOf({ type: 'fertft', migration: 'refresh_remint', reason })?.migration_outcome;

describe('a re-mint whose sources failed', () => {
  it.each([
    ['refused by the fleet budget with a place in its queue', [budgetQueued], { reason: 'upstream_budget_exhausted', retry_after: 7, queued: true }, 'not_called'],
    ['refused by the fleet budget while it is paused', [budgetPaused], { reason: 'upstream_budget_exhausted', retry_after: 2 }, 'not_called'],
    ['limited by the upstream itself', [upstreamLimit], { reason: 'rate_limited', retry_after: 4 }, 'upstream_unavailable'],
    ['a queue place at one source, the upstream limit at another', [budgetQueued, upstreamLimit], { reason: 'rate_limited', retry_after: 7 }, 'upstream_unavailable'],
    ['a queue place at one source, a dead token at another', [budgetQueued, deadToken], { reason: 'upstream_budget_exhausted', queued: true }, 'not_called'],
    ['a queue place at one source, a timeout at another', [budgetQueued, timeout], { reason: 'rate_limited' }, 'upstream_unavailable'],
  ] as const)('%s', (_, failures, expected, outcome) => {
    const combined = combineTransient([...failures]);
    expect(combined).toMatchObject({ kind: 'rate_limited', ...expected });
    if (!('queued' in expected)) expect(combined).not.toHaveProperty('queued');
    expect(outcomeOf(combined!.reason)).toBe(outcome);
  });

  it('dead everywhere: no retry at all', () => {
    expect(combineTransient([deadToken, deadToken])).toBeUndefined();
  });
});
