import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { LoginSessionRecord, LoginTransactionRecord, SocialTransactionRecord } from '../../lambdas/store/login-records.js';
import { createLoginSessionsRepository } from '../../lambdas/store/login-sessions-repository.js';
import { createLoginTransactionsRepository, createSocialTransactionsRepository } from '../../lambdas/store/pending-logins-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/**
 * The browser login's repositories: expiry is checked on read against the injected clock (the
 * table's TTL deletes late), a pending login ends once, and items keep the keys and shapes earlier
 * versions wrote (stored sessions and pending logins stay readable across a deploy).
 */
const TABLE = 'browser-logins-test';
const store = useStoreEngine(TABLE);
let clockMs = Date.UTC(2026, 0, 1);
const now = () => clockMs;
const nowSeconds = () => Math.floor(clockMs / 1000);

const request = { client_id: 'c', redirect_uri: 'https://app.example/cb', response_mode: 'query' as const, scope: 'openid', connection_id: 'con_1' };
const rawItem = async (pk: string, sk: string) => (await store.db.send(new GetCommand({ TableName: TABLE, Key: { pk, sk } }))).Item;

describe('login sessions', () => {
  const session = (tenant: string, seconds: number): LoginSessionRecord => ({
    tenant,
    user_id: 'auth0|u1',
    connection_id: 'con_1',
    auth_time: nowSeconds(),
    sid: 'sid1',
    expires_at: nowSeconds() + seconds,
    ttl: nowSeconds() + seconds,
  });

  it('is read while live, not once its expiry has passed by the injected clock, though the item is still there', async () => {
    const sessions = createLoginSessionsRepository(store.db, TABLE, now);
    const s = session('t', 60);
    await sessions.start('hash-live', s);
    expect(await sessions.liveSession('t', 'hash-live')).toEqual(s);
    expect(await rawItem('TENANT#t#SESSION#hash-live', 'SESSION')).toEqual({ pk: 'TENANT#t#SESSION#hash-live', sk: 'SESSION', ...s });
    clockMs += 60_000;
    expect(await sessions.liveSession('t', 'hash-live')).toBeUndefined();
    expect(await rawItem('TENANT#t#SESSION#hash-live', 'SESSION')).toBeDefined();
  });

  it("is not another tenant's, and is gone once ended", async () => {
    const sessions = createLoginSessionsRepository(store.db, TABLE, now);
    await sessions.start('hash-end', session('t', 60));
    expect(await sessions.liveSession('other', 'hash-end')).toBeUndefined();
    await sessions.end('t', 'hash-end');
    expect(await sessions.liveSession('t', 'hash-end')).toBeUndefined();
    await sessions.end('t', 'hash-end'); // ending an ended session is no error (logout twice)
  });
});

describe('pending logins', () => {
  const loginTx = (id: string, seconds: number): LoginTransactionRecord => ({
    id,
    tenant: 't',
    request,
    csrf_hash: 'csrf',
    expires_at: nowSeconds() + seconds,
    ttl: nowSeconds() + seconds,
  });
  const socialTx = (id: string, seconds: number): SocialTransactionRecord => ({
    id,
    tenant: 't',
    request,
    connection_id: 'con_g',
    nonce: 'n',
    code_verifier: 'v',
    browser_hash: 'b',
    expires_at: nowSeconds() + seconds,
    ttl: nowSeconds() + seconds,
  });

  it('a login transaction is stored under its own key, read while live, and not after its expiry', async () => {
    const txs = createLoginTransactionsRepository(store.db, TABLE, now);
    const tx = loginTx('tx-expiring-0001', 30);
    expect(await txs.create(tx)).toEqual({ ok: true });
    expect(await rawItem('TENANT#t#LOGINTX#tx-expiring-0001', 'LOGINTX')).toEqual({ pk: 'TENANT#t#LOGINTX#tx-expiring-0001', sk: 'LOGINTX', ...tx });
    expect(await txs.liveTransaction('t', tx.id)).toEqual(tx);
    expect(await txs.liveTransaction('other', tx.id)).toBeUndefined();
    clockMs += 30_000;
    expect(await txs.liveTransaction('t', tx.id)).toBeUndefined();
  });

  it('a taken id is a conflict that leaves the first transaction as it was', async () => {
    const txs = createLoginTransactionsRepository(store.db, TABLE, now);
    const first = loginTx('tx-taken-000001', 60);
    await txs.create(first);
    expect(await txs.create({ ...first, csrf_hash: 'other' })).toEqual({ ok: false, reason: 'conflict' });
    expect((await txs.liveTransaction('t', first.id))?.csrf_hash).toBe('csrf');
  });

  it('of concurrent ends of one login transaction exactly one goes through', async () => {
    const txs = createLoginTransactionsRepository(store.db, TABLE, now);
    await txs.create(loginTx('tx-once-0000001', 60));
    const ends = await Promise.all(Array.from({ length: 5 }, () => txs.end('t', 'tx-once-0000001')));
    expect(ends.filter(Boolean)).toHaveLength(1);
    expect(await txs.liveTransaction('t', 'tx-once-0000001')).toBeUndefined();
  });

  it('a social transaction is stored under its own key, used once, and not read after its expiry', async () => {
    const txs = createSocialTransactionsRepository(store.db, TABLE, now);
    const used = socialTx('state-used', 60);
    expect(await txs.create(used)).toEqual({ ok: true });
    expect(await rawItem('TENANT#t#SOCIALTX#state-used', 'SOCIALTX')).toEqual({ pk: 'TENANT#t#SOCIALTX#state-used', sk: 'SOCIALTX', ...used });
    expect(await txs.liveTransaction('t', used.id)).toEqual(used);
    expect(await txs.end('t', used.id)).toBe(true);
    expect(await txs.end('t', used.id)).toBe(false);

    const late = socialTx('state-late', 15);
    await txs.create(late);
    clockMs += 15_000;
    expect(await txs.liveTransaction('t', late.id)).toBeUndefined();
  });
});
