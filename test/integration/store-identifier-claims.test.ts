import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDeps, type Deps } from '../../lambdas/deps.js';
import { createUser } from '../../lambdas/identity/create-user.js';
import { createSilentSink } from '../../lambdas/logs/log-sink.js';
import { createLocalSecretStore } from '../../lambdas/secrets/local-secret-store.js';
import { newDatabaseConnection } from '../../lambdas/store/defaults.js';
import { keys } from '../../lambdas/store/keys.js';
import { createUsersRepository } from '../../lambdas/store/users-repository.js';
import { useStoreEngine } from '../support/store-engine.js';

/** Identifier claims keep (connection, email) unique without transactions. */
const TABLE = 'claims-test';
const store = useStoreEngine(TABLE);
let deps: Deps;
const connection = newDatabaseConnection({ name: 'Username-Password-Authentication', id: 'con_claims0000000000', now: new Date().toISOString() });

beforeAll(() => {
  deps = createDeps({ db: store.db, tableName: TABLE, secrets: createLocalSecretStore(), sink: createSilentSink(), config: { bcryptCost: 4 } });
});

const create = (userId: string, email: string) =>
  createUser(deps, { tenant: 't', connection, profile: { user_id: userId, email } });

async function leaveClaim(email: string, userId: string, claimedAt: number) {
  await deps.db.send(new PutCommand({ TableName: TABLE, Item: { ...keys.emailClaim('t', connection.id, email), user_id: userId, claimed_at: claimedAt } }));
}

describe('identifier claims', () => {
  it('two different users with one email at once: exactly one is created, the other is told the email is taken', async () => {
    const outcomes = await Promise.all([create('auth0|aaa111', 'race@example.com'), create('auth0|bbb222', 'race@example.com')]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['created', 'identifier_taken']);
  });

  it('a claim whose user was never written is taken over once it is old (a crash between the two writes)', async () => {
    await leaveClaim('crashed@example.com', 'auth0|ghost1', Date.now() - 120_000);
    expect((await create('auth0|new111', 'crashed@example.com')).outcome).toBe('created');
    expect((await deps.users.claimOf(keys.emailClaim('t', connection.id, 'crashed@example.com')))?.user_id).toBe('auth0|new111');
  });

  it('a young claim whose user is not written yet belongs to a creation in flight and is not taken over', async () => {
    await leaveClaim('inflight@example.com', 'auth0|writing', Date.now());
    expect(await create('auth0|other1', 'inflight@example.com')).toMatchObject({ outcome: 'identifier_taken', holder: 'auth0|writing' });
  });
});

describe('an existing user given an identifier another user holds', () => {
  it('keeps its own identity and gets its password; the identifier stays with its holder (never merged)', async () => {
    await create('auth0|holder1', 'held@example.com');
    await createUser(deps, { tenant: 't', connection, profile: { user_id: 'auth0|noemail1' } });
    const outcome = await createUser(deps, {
      tenant: 't',
      connection,
      profile: { user_id: 'auth0|noemail1', email: 'held@example.com' },
      password: 'Correct-horse-1',
    });
    expect(outcome).toMatchObject({ outcome: 'exists', user: { user_id: 'auth0|noemail1' } });
    expect(outcome.outcome === 'exists' && outcome.user.email).toBeFalsy();
    expect((await deps.users.getUserWithPassword('t', 'auth0|noemail1')).password).toBeTruthy();
    expect((await deps.users.claimOf(keys.emailClaim('t', connection.id, 'held@example.com')))?.user_id).toBe('auth0|holder1');
  });
});

describe('identifiers claimed while the user is looked up', () => {
  const claimOf = (email: string) => deps.users.claimOf(keys.emailClaim('t', connection.id, email));

  it('a user that exists under another email gets no claim of the new one: it is given back, and another user may take it', async () => {
    await create('auth0|moved1', 'current@example.com');
    const again = await create('auth0|moved1', 'upstream-old@example.com');
    expect(again).toMatchObject({ outcome: 'exists', user: { email: 'current@example.com' } });
    expect(await claimOf('upstream-old@example.com')).toBeUndefined();
    expect((await create('auth0|taker1', 'upstream-old@example.com')).outcome).toBe('created');
  });

  it('a user of another upstream (same user_id): the claims taken for it are given back', async () => {
    await createUser(deps, { tenant: 't', connection, profile: { user_id: 'auth0|twin1' }, upstream: 'one.example.com' });
    const other = await createUser(deps, { tenant: 't', connection, profile: { user_id: 'auth0|twin1', email: 'twin@example.com' }, upstream: 'two.example.com' });
    expect(other).toMatchObject({ outcome: 'upstream_mismatch', recorded: 'one.example.com' });
    expect(await claimOf('twin@example.com')).toBeUndefined();
  });

  it('a creation a registration hook denies leaves no claim behind', async () => {
    const denying = { ...deps, registrationHooks: { pre: async () => { throw new Error('denied'); }, post: async () => {} } };
    await expect(createUser(denying, { tenant: 't', connection, profile: { user_id: 'auth0|denied1', email: 'denied@example.com' } })).rejects.toThrow('denied');
    expect(await claimOf('denied@example.com')).toBeUndefined();
  });

  it('an email the user lacks stays claimed and is added to it', async () => {
    await createUser(deps, { tenant: 't', connection, profile: { user_id: 'auth0|bare1' } });
    const outcome = await create('auth0|bare1', 'added@example.com');
    expect(outcome).toMatchObject({ outcome: 'exists', user: { email: 'added@example.com' } });
    expect((await claimOf('added@example.com'))?.user_id).toBe('auth0|bare1');
  });

  it('a claim left pointing at an existing user that does not carry it (a crash before it was given back) is taken over once old', async () => {
    await create('auth0|carrier1', 'carried@example.com');
    await leaveClaim('stray@example.com', 'auth0|carrier1', Date.now() - 120_000);
    expect((await create('auth0|rightful1', 'stray@example.com')).outcome).toBe('created');
    expect((await claimOf('stray@example.com'))?.user_id).toBe('auth0|rightful1');
    // The user's own email stays its own.
    expect(await create('auth0|other2', 'carried@example.com')).toMatchObject({ outcome: 'identifier_taken', holder: 'auth0|carrier1' });
  });

  it('a new user: its email is claimed while it is looked up (both requests are out before either answers)', async () => {
    const events: string[] = [];
    const send = deps.db.send.bind(deps.db);
    const spy = (async (command: { constructor: { name: string } }) => {
      events.push(`start ${command.constructor.name}`);
      try {
        return await send(command as never);
      } finally {
        events.push(`end ${command.constructor.name}`);
      }
    }) as typeof deps.db.send;
    const users = createUsersRepository({ send: spy } as unknown as Deps['db'], TABLE, deps.now);
    await createUser({ ...deps, users }, { tenant: 't', connection, profile: { user_id: 'auth0|quick1', email: 'quick@example.com' } });
    expect(events.slice(0, 2)).toEqual(['start GetCommand', 'start PutCommand']);
    expect(events.filter((e) => e.startsWith('start'))).toEqual(['start GetCommand', 'start PutCommand', 'start PutCommand']);
  });
});

describe('the users repository answers outcomes, not storage errors', () => {
  it('a claim someone else holds is a conflict naming the holder; releasing and retiring touch only the holder\'s claim', async () => {
    await create('auth0|owner1', 'owned@example.com');
    const key = keys.emailClaim('t', connection.id, 'owned@example.com');
    expect(await deps.users.claimIdentifier(key, 'auth0|intruder1')).toEqual({ ok: false, reason: 'conflict', holder: 'auth0|owner1' });
    await deps.users.releaseIdentifier(key, 'auth0|intruder1');
    await deps.users.retireIdentifier(key, 'auth0|intruder1');
    expect(await deps.users.claimOf(key)).toEqual({ user_id: 'auth0|owner1', retired: false });
    await deps.users.retireIdentifier(key, 'auth0|owner1');
    expect(await deps.users.claimIdentifier(key, 'auth0|next1')).toEqual({ ok: true });
  });

  it('replacing a user that is gone is not_found', async () => {
    const outcome = await create('auth0|gone1', 'gone@example.com');
    await deps.users.deleteUser(outcome.outcome === 'created' ? outcome.user : (undefined as never));
    expect(await deps.users.putUser({ ...(outcome as { user: import('../../lambdas/store/records.js').UserRecord }).user, name: 'x' })).toEqual({ ok: false, reason: 'not_found' });
  });
});
