import { readFileSync } from 'node:fs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../lambdas/identity/create-user.js';
import { verifyPassword } from '../../lambdas/identity/passwords.js';
import { checkStoredPassword } from '../../lambdas/identity/stored-password.js';
import { keys } from '../../lambdas/store/keys.js';
import type { PasswordRecord } from '../../lambdas/store/records.js';
import { connectionByName } from '../../lambdas/store/tenant-config-repository.js';
import { startTestService, type TestService } from '../support/local-service.js';

/**
 * Users whose password item holds a hash imported from another system (Auth0's bulk import:
 * `custom_password_hash`, or a bcrypt `password_hash`) sign in with the password grant over HTTP;
 * the first success replaces the imported hash by bcrypt, and a wrong password is a wrong password.
 * The hashes come from test/fixtures (made by openssl, argon2 and hashlib, not by the service).
 */
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/custom-password-hashes.json', import.meta.url), 'utf8')) as {
  name: string;
  password: string;
  custom_password_hash: Record<string, unknown>;
}[];

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(() => service?.close());

const tenant = () => service.credentials.tenant;

/** A user of the dev connection without a password, then its password item as an import writes it. */
async function importedUser(email: string, password: Omit<PasswordRecord, 'updated_at'>) {
  const deps = service.deps;
  const connection = connectionByName((await deps.tenantConfigs.load(tenant()))!, service.credentials.connection.name)!;
  const created = await createUser(deps, { tenant: tenant(), connection, profile: { email, email_verified: true } });
  if (created.outcome !== 'created') throw new Error(`user not created: ${created.outcome}`);
  const userId = created.user.user_id;
  await deps.db.send(new PutCommand({ TableName: deps.tableName, Item: { ...keys.password(tenant(), userId), ...password, updated_at: '2024-01-01T00:00:00.000Z' } }));
  return userId;
}

async function passwordItem(userId: string): Promise<Record<string, unknown> | undefined> {
  const res = await service.deps.db.send(new GetCommand({ TableName: service.deps.tableName, Key: keys.password(tenant(), userId), ConsistentRead: true }));
  return res.Item;
}

function login(email: string, password: string) {
  const web = service.credentials.webClient;
  return service.postForm('/oauth/token', { grant_type: 'password', username: email, password, scope: 'openid', client_id: web.client_id, client_secret: web.client_secret });
}

describe('login with an imported custom_password_hash', () => {
  it.each(fixtures.map((f, i) => ({ ...f, i })))('$name: wrong password fails, right one signs in and leaves bcrypt behind', async ({ password, custom_password_hash, i }) => {
    const email = `imported-${i}@example.com`;
    const userId = await importedUser(email, { custom_password_hash, origin: 'import' });

    expect(await login(email, password + '-wrong')).toMatchObject({ status: 403, body: { error: 'invalid_grant', error_description: 'Wrong email or password.' } });
    expect(await passwordItem(userId)).toMatchObject({ custom_password_hash, origin: 'import' });

    const first = await login(email, password);
    expect(first.status).toBe(200);
    expect(first.body.access_token).toBeTruthy();

    const after = (await passwordItem(userId))!;
    expect(after.custom_password_hash).toBeUndefined();
    expect(after.origin).toBe('local');
    expect(after.hash).toMatch(/^\$2[ab]\$/);
    expect(await verifyPassword(password, String(after.hash))).toBe(true);

    // The second login is checked against the bcrypt hash alone.
    expect((await login(email, password)).status).toBe(200);
    expect((await login(email, password + '-wrong')).status).toBe(403);
  });

  it('a wrong password against an imported hash is logged as a failed login (fp) of that user', async () => {
    const md5 = fixtures.find((f) => f.custom_password_hash.algorithm === 'md5')!;
    const userId = await importedUser('imported-fp@example.com', { custom_password_hash: md5.custom_password_hash, origin: 'import' });
    await login('imported-fp@example.com', 'not-it');
    const events = service.logLines.map((l) => JSON.parse(l)).filter((e) => e.user_id === userId && e.type === 'fp');
    expect(events).toHaveLength(1);
    expect(events[0].reason).toBe('wrong_password');
  });
});

describe('login with an imported bcrypt password_hash', () => {
  it('signs in and marks the hash local, keeping it as it is', async () => {
    const bcrypt = fixtures.find((f) => f.name.startsWith('bcrypt $2b$'))!;
    const hash = String((bcrypt.custom_password_hash.hash as { value: string }).value);
    const userId = await importedUser('imported-bcrypt@example.com', { hash, origin: 'import' });
    expect((await login('imported-bcrypt@example.com', 'U*V')).status).toBe(403);
    expect((await passwordItem(userId))!.origin).toBe('import');
    expect((await login('imported-bcrypt@example.com', bcrypt.password)).status).toBe(200);
    expect(await passwordItem(userId)).toMatchObject({ hash, origin: 'local' });
  });
});

describe('a password set meanwhile wins over the imported one', () => {
  it('a reset written between the check and the replacement is kept (the login still succeeds)', async () => {
    const sha = fixtures.find((f) => f.custom_password_hash.algorithm === 'sha256')!;
    const userId = await importedUser('imported-race@example.com', { custom_password_hash: sha.custom_password_hash, origin: 'import' });
    const read = (await service.deps.users.getUserWithPassword(tenant(), userId)).password!;
    // A password reset lands after the login read the imported item.
    await service.deps.users.putPassword(tenant(), userId, '$2b$04$resetresetresetresetreOQ5JJqV0nR3Dp0fGkAeJeQ7hOjyJq6q', '2024-06-01T00:00:00.000Z');
    expect(await checkStoredPassword(service.deps, tenant(), userId, read, sha.password)).toBe(true);
    const after = (await passwordItem(userId))!;
    expect(after.hash).toBe('$2b$04$resetresetresetresetreOQ5JJqV0nR3Dp0fGkAeJeQ7hOjyJq6q');
    expect(after.origin).toBeUndefined();
  });

  it('a reset after an imported bcrypt hash was read is not marked local by the login', async () => {
    const bcrypt = fixtures.find((f) => f.name.startsWith('bcrypt $2a$'))!;
    const hash = String((bcrypt.custom_password_hash.hash as { value: string }).value);
    const userId = await importedUser('imported-race-bcrypt@example.com', { hash, origin: 'import' });
    const read = (await service.deps.users.getUserWithPassword(tenant(), userId)).password!;
    await service.deps.users.putPassword(tenant(), userId, hash, '2024-06-01T00:00:00.000Z'); // same hash, now local
    expect(await service.deps.users.settleImportedPassword(tenant(), userId, read, undefined, '2024-06-02T00:00:00.000Z')).toBe(false);
    expect((await passwordItem(userId))!.updated_at).toBe('2024-06-01T00:00:00.000Z');
  });
});
