import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsSecretStore, SecretStoreError } from './aws-secret-store.js';

const NAME = 'auth0-migration/t1/signing-keys';
const meta = { $metadata: { httpStatusCode: 400, requestId: 'req-1' } };
const notFound = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta });
const exists = () => new ResourceExistsException({ message: 'The operation failed because the secret already exists.', ...meta });
const scheduledForDeletion = () =>
  new InvalidRequestException({
    message: "You can't perform this operation on the secret because it was marked for deletion.",
    ...meta,
  });

function setup(options: { maxAgeMs?: number; kmsKeyId?: string; tags?: Record<string, string> } = {}) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const sm = mockClient(client);
  const clock = { ms: 1_000_000 };
  const store = createAwsSecretStore({ client, now: () => clock.ms, ...options });
  return { sm, clock, store };
}

describe('AWS Secrets Manager secret store', () => {
  let env: ReturnType<typeof setup>;
  beforeEach(() => {
    env = setup();
  });

  describe('get', () => {
    it('serves a second read within the max age from memory (one GetSecretValue call)', async () => {
      env.sm.on(GetSecretValueCommand, { SecretId: NAME }).resolves({ SecretString: 'v1' });
      expect(await env.store.get(NAME)).toBe('v1');
      env.clock.ms += 299_999;
      expect(await env.store.get(NAME)).toBe('v1');
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });

    it('refetches once the cached value is older than the max age', async () => {
      env.sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v1' }).resolvesOnce({ SecretString: 'v2' });
      expect(await env.store.get(NAME)).toBe('v1');
      env.clock.ms += 300_000;
      expect(await env.store.get(NAME)).toBe('v2');
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });

    it('returns undefined for a missing secret and does not cache the absence', async () => {
      env.sm.on(GetSecretValueCommand).rejectsOnce(notFound()).resolves({ SecretString: 'later' });
      expect(await env.store.get(NAME)).toBeUndefined();
      expect(await env.store.get(NAME)).toBe('later');
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });

    it('returns undefined for a secret that is scheduled for deletion', async () => {
      env.sm.on(GetSecretValueCommand).rejects(scheduledForDeletion());
      expect(await env.store.get(NAME)).toBeUndefined();
    });

    it('lets concurrent reads of one name share one in-flight request', async () => {
      const pending: Array<(out: GetSecretValueCommandOutput) => void> = [];
      env.sm.on(GetSecretValueCommand).callsFake(
        () => new Promise<GetSecretValueCommandOutput>((resolve) => pending.push(resolve)),
      );
      const reads = [env.store.get(NAME), env.store.get(NAME), env.store.get(NAME)];
      await new Promise((resolve) => setImmediate(resolve));
      for (const release of pending) release({ SecretString: 'shared', $metadata: {} });
      expect(await Promise.all(reads)).toEqual(['shared', 'shared', 'shared']);
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });

    it('does not share requests across different names', async () => {
      env.sm.on(GetSecretValueCommand, { SecretId: 'a' }).resolves({ SecretString: 'A' });
      env.sm.on(GetSecretValueCommand, { SecretId: 'b' }).resolves({ SecretString: 'B' });
      expect(await Promise.all([env.store.get('a'), env.store.get('b')])).toEqual(['A', 'B']);
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });

    it('calls Secrets Manager on every read when max age is 0', async () => {
      env = setup({ maxAgeMs: 0 });
      env.sm.on(GetSecretValueCommand).resolves({ SecretString: 'v' });
      await env.store.get(NAME);
      await env.store.get(NAME);
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    });

    it('reports other failures as SecretStoreError with the AWS error code', async () => {
      env.sm.on(GetSecretValueCommand).rejects(
        new SecretsManagerServiceException({ name: 'AccessDeniedException', $fault: 'client', ...meta }),
      );
      const err = await env.store.get(NAME).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecretStoreError);
      expect(err).toMatchObject({ code: 'AccessDeniedException', operation: 'GetSecretValue', secretName: NAME });
    });
  });

  describe('put', () => {
    it('replaces the value with PutSecretValue and serves it from memory afterwards', async () => {
      env.sm.on(PutSecretValueCommand).resolves({});
      await env.store.put(NAME, 'new');
      expect(env.sm.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: NAME, SecretString: 'new' });
      expect(await env.store.get(NAME)).toBe('new');
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
      expect(env.sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
    });

    it('creates the secret (with KMS key and tags) when it does not exist', async () => {
      env = setup({ kmsKeyId: 'alias/secrets', tags: { app: 'auth0-migration' } });
      env.sm.on(PutSecretValueCommand).rejects(notFound());
      env.sm.on(CreateSecretCommand).resolves({});
      await env.store.put(NAME, 'first');
      expect(env.sm.commandCalls(CreateSecretCommand)[0].args[0].input).toEqual({
        Name: NAME,
        SecretString: 'first',
        KmsKeyId: 'alias/secrets',
        Tags: [{ Key: 'app', Value: 'auth0-migration' }],
      });
      expect(await env.store.get(NAME)).toBe('first');
    });

    it('puts the value when another writer created the secret between its put and create', async () => {
      env.sm.on(PutSecretValueCommand).rejectsOnce(notFound()).resolves({});
      env.sm.on(CreateSecretCommand).rejects(exists());
      await env.store.put(NAME, 'mine');
      expect(env.sm.commandCalls(PutSecretValueCommand)).toHaveLength(2);
    });

    it('restores a secret scheduled for deletion, then puts the value', async () => {
      env.sm.on(PutSecretValueCommand).rejectsOnce(scheduledForDeletion()).resolves({});
      env.sm.on(RestoreSecretCommand).resolves({});
      await env.store.put(NAME, 'revived');
      expect(env.sm.commandCalls(RestoreSecretCommand)[0].args[0].input).toEqual({ SecretId: NAME });
      const puts = env.sm.commandCalls(PutSecretValueCommand);
      expect(puts).toHaveLength(2);
      expect(puts[1].args[0].input).toEqual({ SecretId: NAME, SecretString: 'revived' });
    });

    it('replaces a cached value so the next read returns the new one', async () => {
      env.sm.on(GetSecretValueCommand).resolves({ SecretString: 'old' });
      env.sm.on(PutSecretValueCommand).resolves({});
      expect(await env.store.get(NAME)).toBe('old');
      await env.store.put(NAME, 'new');
      expect(await env.store.get(NAME)).toBe('new');
    });

    it('does not let a read that started before the put cache the old value', async () => {
      let release!: (out: GetSecretValueCommandOutput) => void;
      env.sm.on(GetSecretValueCommand).callsFakeOnce(
        () => new Promise<GetSecretValueCommandOutput>((resolve) => (release = resolve)),
      );
      env.sm.on(PutSecretValueCommand).resolves({});
      const staleRead = env.store.get(NAME);
      await new Promise((resolve) => setImmediate(resolve));
      await env.store.put(NAME, 'new');
      release({ SecretString: 'old', $metadata: {} });
      expect(await staleRead).toBe('old');
      expect(await env.store.get(NAME)).toBe('new');
    });

    it('never includes the secret value in its error message', async () => {
      const value = 'super-secret-value-123';
      env.sm.on(PutSecretValueCommand).rejects(
        new SecretsManagerServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          message: `denied while writing ${value}`,
          ...meta,
        }),
      );
      const err = (await env.store.put(NAME, value).catch((e: unknown) => e)) as SecretStoreError;
      expect(err).toBeInstanceOf(SecretStoreError);
      expect(err.code).toBe('AccessDeniedException');
      expect(err.message).toContain(NAME);
      expect(err.message).not.toContain(value);
      expect(JSON.stringify(err)).not.toContain(value);
      expect(err.cause).toBeUndefined();
    });
  });

  describe('putIfAbsent', () => {
    it('creates the secret and returns the given value when it is absent', async () => {
      env.sm.on(CreateSecretCommand).resolves({});
      expect(await env.store.putIfAbsent(NAME, 'mine')).toBe('mine');
      expect(await env.store.get(NAME)).toBe('mine');
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    });

    it('returns the value stored by the winner of a race, read past the cache', async () => {
      env.sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'stale' }).resolves({ SecretString: 'winner' });
      expect(await env.store.get(NAME)).toBe('stale');
      env.sm.on(CreateSecretCommand).rejects(exists());
      expect(await env.store.putIfAbsent(NAME, 'loser')).toBe('winner');
      expect(env.sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      expect(env.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(await env.store.get(NAME)).toBe('winner');
    });

    it('creates again when the existing secret disappears before it can be read', async () => {
      env.sm.on(CreateSecretCommand).rejectsOnce(exists()).resolves({});
      env.sm.on(GetSecretValueCommand).rejects(notFound());
      expect(await env.store.putIfAbsent(NAME, 'mine')).toBe('mine');
      expect(env.sm.commandCalls(CreateSecretCommand)).toHaveLength(2);
    });

    it('restores a secret scheduled for deletion and stores the given value', async () => {
      env.sm.on(CreateSecretCommand).rejects(scheduledForDeletion());
      env.sm.on(RestoreSecretCommand).resolves({});
      env.sm.on(PutSecretValueCommand).resolves({});
      expect(await env.store.putIfAbsent(NAME, 'mine')).toBe('mine');
      expect(env.sm.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({ SecretId: NAME, SecretString: 'mine' });
    });
  });

  describe('delete', () => {
    it('deletes without a recovery window and evicts the cached value', async () => {
      env.sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'v' }).rejects(notFound());
      env.sm.on(DeleteSecretCommand).resolves({});
      expect(await env.store.get(NAME)).toBe('v');
      await env.store.delete(NAME);
      expect(env.sm.commandCalls(DeleteSecretCommand)[0].args[0].input).toEqual({
        SecretId: NAME,
        ForceDeleteWithoutRecovery: true,
      });
      expect(await env.store.get(NAME)).toBeUndefined();
    });

    it('treats deleting a missing secret as success', async () => {
      env.sm.on(DeleteSecretCommand).rejects(notFound());
      await expect(env.store.delete(NAME)).resolves.toBeUndefined();
    });

    it('reports other failures as SecretStoreError', async () => {
      env.sm.on(DeleteSecretCommand).rejects(
        new SecretsManagerServiceException({ name: 'AccessDeniedException', $fault: 'client', ...meta }),
      );
      await expect(env.store.delete(NAME)).rejects.toMatchObject({ code: 'AccessDeniedException', operation: 'DeleteSecret' });
    });
  });
});
