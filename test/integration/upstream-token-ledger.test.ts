import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../lambdas/migration/deadline.js';
import { createUpstreamTokenLedger } from '../../lambdas/migration/upstream-token-ledger.js';
import { createDocumentClient, createRoundTripCounter } from '../../lambdas/store/dynamo-client.js';
import { DEFAULT_TABLE_NAME } from '../../lambdas/store/table.js';
import { createUpstreamTokenRepository } from '../../lambdas/store/upstream-token-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/** The "upstream token consumed" ledger on the embedded engine: leases, take-overs and outcomes. */
const store = useStoreEngine(DEFAULT_TABLE_NAME);
let t = Date.now();
const now = () => t;
const LEASE_MS = 10_000;

function ledgerFor(token: string) {
  return createUpstreamTokenLedger({ upstreamTokens: createUpstreamTokenRepository(store.db, DEFAULT_TABLE_NAME), now }, { tenant: 'ledger-test', token, leaseMs: LEASE_MS });
}
const newToken = () => `v1.M${randomBytes(30).toString('base64url')}`;
/** A deadline that is already spent: a claim that would have to wait answers `busy` at once. */
const noTime = () => createDeadline(0, now);

describe('upstream token ledger', () => {
  it('stores only the SHA-256 of the token, and the first claim owns it while a second is busy', async () => {
    const token = newToken();
    const first = await ledgerFor(token).claim(['s1'], noTime());
    expect(first).toMatchObject({ kind: 'owner', record: { status: 'redeeming' } });
    expect(JSON.stringify(first)).not.toContain(token);
    expect(await ledgerFor(token).claim(['s1'], noTime())).toEqual({ kind: 'busy' });
  });

  it('a stale lease (the owner crashed before redeeming) is taken over as a fresh redemption, and the old owner can no longer write', async () => {
    const token = newToken();
    const first = await ledgerFor(token).claim(['s1'], noTime());
    if (first.kind !== 'owner') throw new Error('expected owner');
    t += LEASE_MS + 1;
    const second = await ledgerFor(token).claim(['s1'], noTime());
    expect(second).toMatchObject({ kind: 'owner', record: { status: 'redeeming' } });
    expect(await ledgerFor(token).markRedeemed(first.lease, { sourceId: 's1', sealedAnswer: 'v1.x', clientId: 'c' })).toBe(false);
  });

  it('a redeemed record whose owner released it is resumed with its sealed answer, not redeemed again', async () => {
    const token = newToken();
    const ledger = ledgerFor(token);
    const first = await ledger.claim(['s1'], noTime());
    if (first.kind !== 'owner') throw new Error('expected owner');
    expect(await ledger.markRedeemed(first.lease, { sourceId: 's1', sealedAnswer: 'v1.sealed', clientId: 'c' })).toBe(true);
    expect(await ledgerFor(token).claim(['s1'], noTime())).toEqual({ kind: 'busy' });
    await ledger.release(first.lease);
    const resumed = await ledgerFor(token).claim(['s1'], noTime());
    expect(resumed).toMatchObject({ kind: 'owner', record: { status: 'redeemed', sealed_answer: 'v1.sealed', source_id: 's1' } });
  });

  it('a waiting claim sees the owner finish: minted records answer replays', async () => {
    const token = newToken();
    const ledger = ledgerFor(token);
    const owner = await ledger.claim(['s1'], noTime());
    if (owner.kind !== 'owner') throw new Error('expected owner');
    // The waiter reads through its own client, so the test writes the outcome only once it waits.
    const counter = createRoundTripCounter();
    const waiterDb = createDocumentClient({ endpoint: store.endpoint, counter });
    const waiting = createUpstreamTokenLedger({ upstreamTokens: createUpstreamTokenRepository(waiterDb, DEFAULT_TABLE_NAME), now }, { tenant: 'ledger-test', token, leaseMs: LEASE_MS })
      .claim(['s1'], createDeadline(5_000, () => Date.now()));
    while (!counter.byOperation.GetItem) await new Promise((resolve) => setImmediate(resolve));
    const minted = ledger.mintedItem(owner.lease, { source_id: 's1', client_id: 'c', user_id: 'auth0|u', family_id: 'fam', scope: 'openid', refresh_scope: 'openid offline_access' });
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await store.db.send(new PutCommand({ TableName: DEFAULT_TABLE_NAME, Item: minted }));
    expect(await waiting).toMatchObject({ kind: 'minted', waited: true, record: { family_id: 'fam', user_id: 'auth0|u' } });
    waiterDb.destroy();
  });

  it('rejected by every current source answers at once; a source not asked yet gets its chance', async () => {
    const token = newToken();
    const ledger = ledgerFor(token);
    const owner = await ledger.claim(['s1'], noTime());
    if (owner.kind !== 'owner') throw new Error('expected owner');
    await ledger.markRejected(owner.lease, ['s1']);
    expect(await ledgerFor(token).claim(['s1'], noTime())).toMatchObject({ kind: 'rejected', waited: false });
    expect(await ledgerFor(token).claim(['s1', 's2'], noTime())).toMatchObject({ kind: 'owner', record: { status: 'redeeming' } });
  });

  it('a transient failure answers again until its retry time, then the token may be redeemed again', async () => {
    const token = newToken();
    const ledger = ledgerFor(token);
    const owner = await ledger.claim(['s1'], noTime());
    if (owner.kind !== 'owner') throw new Error('expected owner');
    await ledger.markTransient(owner.lease, { kind: 'rate_limited', reason: 'rate_limited', retry_after: 3 });
    expect(await ledgerFor(token).claim(['s1'], noTime())).toMatchObject({ kind: 'transient', record: { failure: { retry_after: 3 } } });
    t += 3_001;
    expect(await ledgerFor(token).claim(['s1'], noTime())).toMatchObject({ kind: 'owner', record: { status: 'redeeming' } });
  });

  it('an expired record counts as absent (TTL checked on read)', async () => {
    const token = newToken();
    const ledger = ledgerFor(token);
    const owner = await ledger.claim(['s1'], noTime());
    if (owner.kind !== 'owner') throw new Error('expected owner');
    await ledger.markRejected(owner.lease, ['s1']);
    const record = await createUpstreamTokenRepository(store.db, DEFAULT_TABLE_NAME).get('ledger-test', ledger.hash);
    t = record!.ttl * 1000 + 1;
    expect(await ledgerFor(token).claim(['s1'], noTime())).toMatchObject({ kind: 'owner', record: { status: 'redeeming' } });
  });

  it('a token refused with a place in the queue and back at its turn is owned in one request, as its turn: no read, the old owner locked out', async () => {
    const token = newToken();
    const first = await ledgerFor(token).claim(['s1'], noTime());
    if (first.kind !== 'owner') throw new Error('expected owner');
    await ledgerFor(token).markTransient(first.lease, { kind: 'rate_limited', reason: 'rate_limited', retry_after: 3, queued: true });
    // Too early: answered from the record.
    t += 1_000;
    expect(await ledgerFor(token).claim(['s1'], noTime())).toMatchObject({ kind: 'transient' });
    t += 2_000;
    const counter = createRoundTripCounter();
    const counted = createUpstreamTokenLedger({ upstreamTokens: createUpstreamTokenRepository(createDocumentClient({ endpoint: store.endpoint, counter }), DEFAULT_TABLE_NAME), now }, { tenant: 'ledger-test', token, leaseMs: LEASE_MS });
    const back = await counted.claim(['s1'], noTime());
    expect(back).toMatchObject({ kind: 'owner', booked: true, record: { status: 'redeeming', version: 3 } });
    expect(counter.byOperation).toEqual({ UpdateItem: 1 });
    expect(await ledgerFor(token).markRedeemed(first.lease, { sourceId: 's1', sealedAnswer: 'v1.x', clientId: 'c' })).toBe(false);
    if (back.kind !== 'owner') throw new Error('expected owner');
    expect(await counted.markRedeemed(back.lease, { sourceId: 's1', sealedAnswer: 'v1.x', clientId: 'c' })).toBe(true);
    const record = await createUpstreamTokenRepository(store.db, DEFAULT_TABLE_NAME).get('ledger-test', counted.hash);
    expect(record).toMatchObject({ status: 'redeemed', version: 4 });
    expect(record).not.toHaveProperty('failure');
    expect(record).not.toHaveProperty('retry_at');
  });

  it('a new token is claimed in one request; one whose passing failure had no place in the queue is taken over when due, in one request, not as a turn', async () => {
    const token = newToken();
    const counter = createRoundTripCounter();
    const counted = () => createUpstreamTokenLedger({ upstreamTokens: createUpstreamTokenRepository(createDocumentClient({ endpoint: store.endpoint, counter }), DEFAULT_TABLE_NAME), now }, { tenant: 'ledger-test', token, leaseMs: LEASE_MS });
    const first = await counted().claim(['s1'], noTime());
    expect(first).toMatchObject({ kind: 'owner', record: { status: 'redeeming', version: 1 } });
    expect(counter.byOperation).toEqual({ UpdateItem: 1 });
    if (first.kind !== 'owner') throw new Error('expected owner');
    await ledgerFor(token).markTransient(first.lease, { kind: 'unavailable', reason: 'timeout', retry_after: 1 });
    t += 1_000;
    const before = counter.count;
    const back = await counted().claim(['s1'], noTime());
    expect(back).toMatchObject({ kind: 'owner', record: { status: 'redeeming', version: 3 } });
    expect(back).not.toHaveProperty('booked');
    expect(counter.count - before).toBe(1);
  });

  it('a token whose passing failure gave it no place in the queue is taken over as a newcomer, not as its turn', async () => {
    const token = newToken();
    const first = await ledgerFor(token).claim(['s1'], noTime());
    if (first.kind !== 'owner') throw new Error('expected owner');
    await ledgerFor(token).markTransient(first.lease, { kind: 'unavailable', reason: 'timeout' });
    const back = await ledgerFor(token).claim(['s1'], noTime());
    expect(back).toMatchObject({ kind: 'owner', record: { status: 'redeeming' } });
    expect(back).not.toHaveProperty('booked');
  });
});
