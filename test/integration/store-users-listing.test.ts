import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lambdas/store/keys.js';
import { countPartitionKeysOfTable, createPartitionKeyCounter } from '../../lambdas/store/partition-key-counter.js';
import type { UserRecord } from '../../lambdas/store/records.js';
import { shardCounts } from '../../lambdas/store/shards.js';
import { createUsersIndex } from '../../lambdas/store/users-index.js';
import { readLoginStats, withLoginStats } from '../../lambdas/store/login-stats.js';
import { createUsersRepository } from '../../lambdas/store/users-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/**
 * The users listing index: a sharded key so creations spread, login statistics apart from the
 * indexed user item so a login writes no index, and users of earlier versions still listed.
 */
const TABLE = 'users-listing-test';
const TENANT = 'acme';
const store = useStoreEngine(TABLE);
const hotKeys = createPartitionKeyCounter();
const created: string[] = [];
let creationIndexWrites: { key: string; count: number }[] = [];

const user = (n: number, extra: Partial<UserRecord> = {}): UserRecord => ({
  user_id: `auth0|user${String(n).padStart(3, '0')}`,
  tenant: TENANT,
  connection_id: 'con_1',
  connection: 'Username-Password-Authentication',
  email: `user${n}@example.com`,
  email_verified: false,
  identities: [],
  created_at: '2026-11-01T00:00:00.000Z',
  updated_at: '2026-11-01T00:00:00.000Z',
  logins_count: 0,
  ...extra,
} as UserRecord);

beforeAll(async () => {
  countPartitionKeysOfTable(store.db, hotKeys, { endpoint: store.endpoint, tableName: TABLE });
  const users = createUsersRepository(store.db, TABLE);
  hotKeys.reset();
  for (let n = 0; n < 96; n++) {
    const out = await users.createUser(user(n));
    expect(out.outcome).toBe('created');
    created.push(user(n).user_id);
  }
  creationIndexWrites = hotKeys.report('write', { top: 100 }).top.filter((k) => k.key.startsWith('gsi1:'));
  // Users an earlier version wrote: one unsharded listing key, login statistics on the user item.
  for (let n = 96; n < 100; n++) {
    const legacy = user(n, { logins_count: 5, last_login: '2026-10-01T00:00:00.000Z', last_ip: '10.0.0.1' });
    await store.db.send(
      new PutCommand({ TableName: TABLE, Item: { ...keys.user(TENANT, legacy.user_id), gsi1pk: keys.usersIndex(TENANT), gsi1sk: legacy.user_id, ...legacy } }),
    );
    created.push(legacy.user_id);
  }
  created.sort();
});

describe('users listing index', () => {
  it('a burst of creations spreads over the listing shards: no index key takes a quarter', () => {
    const indexWrites = creationIndexWrites;
    expect(indexWrites.length).toBe(shardCounts.usersListing);
    expect(Math.max(...indexWrites.map((k) => k.count))).toBeLessThan(96 / 4);
  });

  it('a login writes no index key and leaves the user item as it was', async () => {
    const users = createUsersRepository(store.db, TABLE);
    const key = keys.user(TENANT, created[0]);
    const before = (await store.db.send(new GetCommand({ TableName: TABLE, Key: key }))).Item;
    hotKeys.reset();
    await users.recordLogin(TENANT, created[0], '2026-11-20T10:00:00.000Z', '127.0.0.9');
    await users.recordLogin(TENANT, created[0], '2026-11-20T11:00:00.000Z', '127.0.0.8');
    const writes = hotKeys.report('write', { top: 100 }).top.map((k) => k.key);
    expect(writes).toEqual([keys.userPartition(TENANT, created[0])]);
    expect((await store.db.send(new GetCommand({ TableName: TABLE, Key: key }))).Item).toEqual(before);
    const stats = await readLoginStats(store.db, TABLE, TENANT, [created[0]]);
    expect(stats.get(created[0])).toEqual({ last_login: '2026-11-20T11:00:00.000Z', last_ip: '127.0.0.8', logins_count: 2 });
  });

  it('lists every user once in user_id order across the shards and the unsharded key; a smaller max is a prefix', async () => {
    const index = createUsersIndex(store.db, TABLE);
    expect((await index.find(TENANT, () => true, 1000)).map((u) => u.user_id)).toEqual(created);
    expect((await index.find(TENANT, () => true, 25)).map((u) => u.user_id)).toEqual(created.slice(0, 25));
    const some = await index.find(TENANT, (u) => u.email!.endsWith('7@example.com'), 1000);
    expect(some.map((u) => u.user_id)).toEqual(created.filter((id) => id.endsWith('7')));
  });

  it('a user of an earlier version keeps its login count and adds new logins to it', async () => {
    const users = createUsersRepository(store.db, TABLE);
    const legacyId = created[created.length - 1];
    await users.recordLogin(TENANT, legacyId, '2026-11-20T12:00:00.000Z', '127.0.0.7');
    const raw = (await users.getUser(TENANT, legacyId))!;
    const shown = withLoginStats(raw, (await readLoginStats(store.db, TABLE, TENANT, [legacyId])).get(legacyId));
    expect(shown).toMatchObject({ logins_count: 6, last_login: '2026-11-20T12:00:00.000Z', last_ip: '127.0.0.7' });
  });

  it('rewriting a user of an earlier version moves it to its shard, still listed once', async () => {
    const users = createUsersRepository(store.db, TABLE);
    const legacyId = created[created.length - 2];
    await users.putUser({ ...(await users.getUser(TENANT, legacyId))!, name: 'Moved' });
    const item = (await store.db.send(new GetCommand({ TableName: TABLE, Key: keys.user(TENANT, legacyId) }))).Item!;
    expect(item.gsi1pk).not.toBe(keys.usersIndex(TENANT));
    const listed = (await createUsersIndex(store.db, TABLE).find(TENANT, () => true, 1000)).map((u) => u.user_id);
    expect(listed).toEqual(created);
  });

  it('deleting a user deletes its login statistics', async () => {
    const users = createUsersRepository(store.db, TABLE);
    await users.deleteUser((await users.getUser(TENANT, created[0]))!);
    expect((await readLoginStats(store.db, TABLE, TENANT, [created[0]])).size).toBe(0);
  });
});
