import { describe, expect, it } from 'vitest';
import { pageMessageOf } from '../../lambdas/authorize/login-post.js';
import { BLOCKED_MESSAGE, LOCKED_OUT_MESSAGE, UNAVAILABLE_MESSAGE, WRONG_CREDENTIALS_MESSAGE } from '../../lambdas/authorize/login-page.js';
import { outcomeOfFailure, type PasswordLoginOutcome, type PasswordLoginSuccess } from '../../lambdas/identity/login-outcome.js';
import { planPasswordCheck, type PasswordCheckPlan } from '../../lambdas/identity/password-login.js';
import { oauthErrorOf } from '../../lambdas/oauth/password-grant.js';
import type { PasswordRecord, UserRecord } from '../../lambdas/store/records.js';

/** The password verdict, one row each: what the identifier's claim and user hold, and how the password is checked. */
const user = { user_id: 'auth0|u1', tenant: 't1' } as UserRecord;
const password = { hash: '$2a$04$hash' } as PasswordRecord;
const live = { user_id: 'auth0|u1', retired: false };
const retired = { user_id: 'auth0|u1', retired: true };

type Row = [string, Parameters<typeof planPasswordCheck>[0], Parameters<typeof planPasswordCheck>[1], boolean, PasswordCheckPlan['kind'], string | undefined];
const rows: Row[] = [
  ['a user with a local password', live, { user, password }, false, 'local', undefined],
  ['a user with a local password, fallback on: still local (a local password always wins)', live, { user, password }, true, 'local', undefined],
  ['an unknown identifier, no fallback', undefined, {}, false, 'refuse', 'unknown_user'],
  ['an unknown identifier, fallback on', undefined, {}, true, 'fallback', 'unknown_user'],
  ['a user without a password, no fallback', live, { user }, false, 'refuse', 'no_local_password'],
  ['a user without a password, fallback on', live, { user }, true, 'fallback', 'no_local_password'],
  ['a retired identifier whose user still has a password', retired, { user, password }, true, 'refuse', 'retired_identifier'],
  ['a retired identifier whose user has no password any more: free for the fallback', retired, { user }, true, 'fallback', 'unknown_user'],
  ['a retired identifier whose user is gone, no fallback', retired, {}, false, 'refuse', 'unknown_user'],
];

describe('password check plan', () => {
  it.each(rows)('%s', (_name, claim, holder, hasFallback, kind, reason) => {
    const plan = planPasswordCheck(claim, holder, hasFallback);
    expect(plan.kind).toBe(kind);
    const failure = plan.kind === 'refuse' ? plan.failure : plan.kind === 'fallback' ? plan.unanswered : undefined;
    expect(failure?.reason).toBe(reason);
    if (failure) expect(failure.countsAsFailure).toBe(true);
    // The failure event names the user only when the identifier points at one that is not retired.
    expect(plan.user?.user_id).toBe(claim && !claim.retired && holder.user ? user.user_id : undefined);
  });

  it('an unknown identifier is logged fu, a known user without a password fp', () => {
    const unknown = planPasswordCheck(undefined, {}, false);
    const noPassword = planPasswordCheck(live, { user }, false);
    expect(unknown.kind === 'refuse' && unknown.failure.logType).toBe('fu');
    expect(noPassword.kind === 'refuse' && noPassword.failure.logType).toBe('fp');
  });
});

describe('failed password outcome, as the grant and the login page say it', () => {
  it('only an upstream rate limit differs from a wrong password', () => {
    expect(outcomeOfFailure({})).toEqual({ kind: 'wrong_credentials' });
    expect(outcomeOfFailure({ retryAfterSeconds: 7 })).toEqual({ kind: 'upstream_unavailable', retryAfterSeconds: 7 });
  });

  const login = { user } as PasswordLoginSuccess;
  const answers: Array<[Exclude<PasswordLoginOutcome, { kind: 'ok' }>, number, string, number, string]> = [
    [{ kind: 'wrong_credentials' }, 403, 'invalid_grant', 400, WRONG_CREDENTIALS_MESSAGE],
    [{ kind: 'blocked', login }, 401, 'unauthorized', 401, BLOCKED_MESSAGE],
    [{ kind: 'too_many_attempts', limit: 'lockout' }, 429, 'too_many_attempts', 429, LOCKED_OUT_MESSAGE],
    [{ kind: 'too_many_attempts', limit: 'suspicious_ip' }, 429, 'too_many_attempts', 429, LOCKED_OUT_MESSAGE],
    [{ kind: 'upstream_unavailable', retryAfterSeconds: 3 }, 429, 'too_many_requests', 503, UNAVAILABLE_MESSAGE],
  ];
  it.each(answers)('%o → OAuth %i %s, page %i', (outcome, status, error, pageStatus, message) => {
    const err = oauthErrorOf(outcome);
    expect([err.status, err.error]).toEqual([status, error]);
    expect(pageMessageOf(outcome)).toEqual({ status: pageStatus, message });
  });

  it('the two limits say different things to an API client, and a rate limit says when to come back', () => {
    expect(oauthErrorOf({ kind: 'too_many_attempts', limit: 'lockout' }).description).toMatch(/blocked after multiple consecutive/);
    expect(oauthErrorOf({ kind: 'too_many_attempts', limit: 'suspicious_ip' }).description).toMatch(/suspicious login behavior/);
    expect(oauthErrorOf({ kind: 'upstream_unavailable', retryAfterSeconds: 3 }).headers['retry-after']).toBe('3');
  });
});
