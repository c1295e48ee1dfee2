import { BatchWriteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { createLockoutRepository } from '../../lambdas/store/lockout-repository.js';
import { createRefreshTokenRepository, type RefreshTokenItem } from '../../lambdas/store/refresh-token-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/** The repositories' conditional writes against the embedded engine (no transactions). */
const TABLE = 'store-test';
const store = useStoreEngine(TABLE);
let tokens: ReturnType<typeof createRefreshTokenRepository>;
let lockouts: ReturnType<typeof createLockoutRepository>;
let seq = 0;

beforeAll(async () => {
  tokens = createRefreshTokenRepository(store.db, TABLE);
  lockouts = createLockoutRepository(store.db, TABLE);
});

async function putToken(): Promise<string> {
  const t: RefreshTokenItem = {
    token_id: `tok-${++seq}`,
    family_id: `fam-${seq}`,
    tenant: 't',
    client_id: 'c',
    user_id: 'auth0|u',
    hash: 'h',
    scope: 'openid offline_access',
    status: 'active',
    created_at: 1000,
    ttl: 999_999_999,
  };
  await store.db.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [{ PutRequest: { Item: tokens.tokenItem(t) } }] } }));
  return t.token_id;
}

describe('refresh token repository: consumeRotating', () => {
  it('consumes an active token once; a second use without leeway is reuse', async () => {
    const id = await putToken();
    expect(await tokens.consumeRotating(id, 2000, 0)).toBe('consumed');
    expect(await tokens.consumeRotating(id, 2000, 0)).toBe('reuse_detected');
  });

  it('within the leeway a rotated token may be consumed again, measured from its first rotation', async () => {
    const id = await putToken();
    expect(await tokens.consumeRotating(id, 2000, 30)).toBe('consumed');
    expect(await tokens.consumeRotating(id, 2020, 30)).toBe('reused_within_leeway');
    // Reuse inside the leeway does not move the rotation time forward.
    expect(await tokens.consumeRotating(id, 2030, 30)).toBe('reused_within_leeway');
    expect(await tokens.consumeRotating(id, 2031, 30)).toBe('reuse_detected');
  });

  it('within the leeway only the previous token may be consumed again: once its successor is used, it is reuse', async () => {
    const a = await putToken();
    const b = await putToken();
    expect(await tokens.consumeRotating(a, 2000, 30, b)).toBe('consumed');
    expect(await tokens.consumeRotating(a, 2005, 30, 'fork-1')).toBe('reused_within_leeway');
    expect(await tokens.consumeRotating(b, 2006, 30, 'c')).toBe('consumed');
    expect(await tokens.consumeRotating(a, 2007, 30, 'fork-2')).toBe('reuse_detected');
  });

  it('a successor not written yet (its exchange still in flight) does not block a reuse within the leeway', async () => {
    const a = await putToken();
    expect(await tokens.consumeRotating(a, 2000, 30, 'not-written-yet')).toBe('consumed');
    expect(await tokens.consumeRotating(a, 2001, 30, 'other')).toBe('reused_within_leeway');
  });

  it('an unknown token id is reuse, not a new item', async () => {
    expect(await tokens.consumeRotating('never-issued', 2000, 30)).toBe('reuse_detected');
    const res = await store.db.send(new GetCommand({ TableName: TABLE, Key: keys.refreshToken('never-issued') }));
    expect(res.Item).toBeUndefined();
  });

  it('20 concurrent consumptions with leeway 0: exactly one wins', async () => {
    const id = await putToken();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => tokens.consumeRotating(id, 2000, 0)));
    expect(outcomes.filter((o) => o === 'consumed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'reuse_detected')).toHaveLength(19);
  });

  it('revokeFamily marks the family revoked and ignores a family that does not exist', async () => {
    await store.db.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [{ PutRequest: { Item: tokens.familyItem({ family_id: 'fam-x', tenant: 't', client_id: 'c', user_id: 'u', status: 'active', created_at: 1, ttl: 999_999_999 }) } }] } }));
    await tokens.revokeFamily('fam-x', 5000, 'reuse_detected');
    await tokens.revokeFamily('fam-missing', 5000, 'reuse_detected');
    const res = await store.db.send(new GetCommand({ TableName: TABLE, Key: keys.refreshFamily('fam-x') }));
    expect(res.Item).toMatchObject({ status: 'revoked', revoked_at: 5000, revoked_reason: 'reuse_detected' });
    const missing = await store.db.send(new GetCommand({ TableName: TABLE, Key: keys.refreshFamily('fam-missing') }));
    expect(missing.Item).toBeUndefined();
  });
});

describe('lockout repository', () => {
  const policy = { max_attempts: 3, window_seconds: 900 };
  const read = async (id: string) =>
    (await store.db.send(new GetCommand({ TableName: TABLE, Key: keys.lockout('t', 'con_1', id) }))).Item as
      | { attempts: number; failures?: number; ttl: number }
      | undefined;
  const failOnce = async (id: string, at: number) => {
    const r = await lockouts.reserveAttempt(keys.lockout('t', 'con_1', id), policy, at);
    if (r === 'blocked' || r === 'busy') return r;
    return lockouts.recordFailedAttempt(keys.lockout('t', 'con_1', id));
  };

  it('counts failures in a window that starts at the first attempt, and blocks after max_attempts until it ends', async () => {
    expect(await failOnce('a@example.com', 1000)).toBe(1);
    expect(await failOnce('a@example.com', 1100)).toBe(2);
    expect(await failOnce('a@example.com', 1200)).toBe(3);
    expect(await read('a@example.com')).toMatchObject({ attempts: 3, failures: 3, ttl: 1900 });
    expect(await lockouts.reserveAttempt(keys.lockout('t', 'con_1', 'a@example.com'), policy, 1899)).toBe('blocked');
    expect(await lockouts.reserveAttempt(keys.lockout('t', 'con_1', 'a@example.com'), policy, 1900)).toEqual({ attempts: 1 });
    expect(await read('a@example.com')).toMatchObject({ attempts: 1, failures: 0, ttl: 2800 });
  });

  it('attempts still in flight make further ones wait (busy), not blocked; a given-back attempt frees one', async () => {
    for (let i = 1; i <= 3; i++) {
      expect(await lockouts.reserveAttempt(keys.lockout('t', 'con_1', 'b@example.com'), policy, 1000)).toEqual({ attempts: i });
    }
    expect(await lockouts.reserveAttempt(keys.lockout('t', 'con_1', 'b@example.com'), policy, 1000)).toBe('busy');
    await lockouts.releaseAttempt(keys.lockout('t', 'con_1', 'b@example.com'));
    expect(await lockouts.reserveAttempt(keys.lockout('t', 'con_1', 'b@example.com'), policy, 1000)).toEqual({ attempts: 3 });
  });

  it('keys are case-insensitive per identifier and separate per connection', async () => {
    await failOnce('C@Example.com', 1000);
    expect(await failOnce('c@example.com', 1001)).toBe(2);
    const other = await lockouts.reserveAttempt(keys.lockout('t', 'con_2', 'c@example.com'), policy, 1001);
    expect(other).toEqual({ attempts: 1 });
  });

  it('of many parallel reservations exactly max_attempts succeed (conditional ADD, no lost updates)', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => lockouts.reserveAttempt(keys.lockout('t', 'con_1', 'd@example.com'), policy, 1000)),
    );
    expect(results.filter((r) => typeof r === 'object')).toHaveLength(3);
    expect(results.filter((r) => r === 'busy')).toHaveLength(7);
    expect(await read('d@example.com')).toMatchObject({ attempts: 3 });
  });
});
