import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from './secret-store.js';

export interface AwsSecretStoreOptions {
  client: SecretsManagerClient;
  /** How long a value read from Secrets Manager is served from memory. 0 disables caching. */
  maxAgeMs?: number;
  /** Clock in epoch milliseconds. */
  now?: () => number;
  /** KMS key for newly created secrets; the account's default `aws/secretsmanager` key otherwise. */
  kmsKeyId?: string;
  /** Tags put on newly created secrets. */
  tags?: Record<string, string>;
}

/**
 * A Secrets Manager call that failed. The message names the operation, the secret and the
 * AWS error code, never the secret value; the original error is not attached because SDK
 * errors can carry the raw response.
 */
export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';
  constructor(
    readonly operation: string,
    readonly secretName: string,
    /** The AWS error name, e.g. AccessDeniedException. */
    readonly code: string,
    readonly httpStatusCode?: number,
    readonly requestId?: string,
    detail?: string,
  ) {
    super(`Secrets Manager ${operation} failed for secret "${secretName}": ${code}${detail ? ` (${detail})` : ''}`);
  }
}

interface CachedValue {
  value: string;
  fetchedAt: number;
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const errorName = (err: unknown): string | undefined => (err as AwsErrorShape | null)?.name;
const isNotFound = (err: unknown) => errorName(err) === 'ResourceNotFoundException';
const isExists = (err: unknown) => errorName(err) === 'ResourceExistsException';
/** Secrets Manager answers InvalidRequestException for secrets that are scheduled for deletion. */
const isScheduledForDeletion = (err: unknown) =>
  errorName(err) === 'InvalidRequestException' && /delet/i.test((err as AwsErrorShape).message ?? '');

/** Converts any failure into a SecretStoreError whose message cannot contain `value`. */
function toSecretStoreError(operation: string, name: string, err: unknown, value?: string): SecretStoreError {
  if (err instanceof SecretStoreError) return err;
  const shape = (err ?? {}) as AwsErrorShape;
  let detail = typeof shape.message === 'string' ? shape.message.slice(0, 300) : undefined;
  if (detail && value && value.length > 0 && detail.includes(value)) detail = detail.split(value).join('[redacted]');
  return new SecretStoreError(
    operation,
    name,
    shape.name ?? 'Error',
    shape.$metadata?.httpStatusCode,
    shape.$metadata?.requestId,
    detail,
  );
}

/** Retries of the put/putIfAbsent state machine when a concurrent writer or deleter interferes. */
const MAX_WRITE_ATTEMPTS = 4;

/**
 * SecretStore on AWS Secrets Manager. Values found are kept in memory for at most `maxAgeMs`
 * so a warm Lambda does not call Secrets Manager per request, and concurrent reads of one
 * name share one request. Missing secrets are not cached. Writes and deletes made through
 * this instance update its cache at once; other instances see them after at most `maxAgeMs`.
 */
export function createAwsSecretStore(options: AwsSecretStoreOptions): SecretStore {
  const { client, maxAgeMs = 300_000, now = Date.now, kmsKeyId } = options;
  const tags = options.tags ? Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) : undefined;

  const cache = new Map<string, CachedValue>();
  const inFlight = new Map<string, Promise<string | undefined>>();
  /** Bumped on every write/delete so a read that started before it does not repopulate the cache. */
  const generations = new Map<string, number>();

  const generation = (name: string) => generations.get(name) ?? 0;
  const invalidate = (name: string) => {
    generations.set(name, generation(name) + 1);
    cache.delete(name);
    inFlight.delete(name);
  };
  const remember = (name: string, value: string) => {
    if (maxAgeMs > 0) cache.set(name, { value, fetchedAt: now() });
  };

  /** Reads the stored value straight from Secrets Manager; undefined when missing or being deleted. */
  async function readStored(name: string): Promise<string | undefined> {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: name }));
      if (out.SecretString !== undefined) return out.SecretString;
      if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary).toString('utf8');
      return undefined;
    } catch (err) {
      if (isNotFound(err) || isScheduledForDeletion(err)) return undefined;
      throw toSecretStoreError('GetSecretValue', name, err);
    }
  }

  async function putValue(name: string, value: string): Promise<void> {
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  }

  async function createSecret(name: string, value: string): Promise<void> {
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: value, KmsKeyId: kmsKeyId, Tags: tags }),
    );
  }

  /** Brings back a secret scheduled for deletion and gives it the new value. */
  async function restoreWithValue(name: string, value: string): Promise<void> {
    await client.send(new RestoreSecretCommand({ SecretId: name }));
    await putValue(name, value);
  }

  /** Stores `value`, whatever state the secret is in. */
  async function writeValue(name: string, value: string): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      try {
        await putValue(name, value);
        return;
      } catch (err) {
        lastError = err;
        if (isScheduledForDeletion(err)) {
          try {
            await restoreWithValue(name, value);
            return;
          } catch (restoreErr) {
            // Force-deleted meanwhile: the name is free (or about to be), go around again.
            if (isNotFound(restoreErr) || isScheduledForDeletion(restoreErr)) {
              lastError = restoreErr;
              continue;
            }
            throw toSecretStoreError('RestoreSecret', name, restoreErr, value);
          }
        }
        if (!isNotFound(err)) throw toSecretStoreError('PutSecretValue', name, err, value);
      }
      try {
        await createSecret(name, value);
        return;
      } catch (err) {
        lastError = err;
        // Created concurrently, or the name is still held by a deleted secret: retry the put.
        if (isExists(err) || isScheduledForDeletion(err)) continue;
        throw toSecretStoreError('CreateSecret', name, err, value);
      }
    }
    throw toSecretStoreError('PutSecretValue', name, lastError, value);
  }

  /** Creates the secret unless it exists; returns the value stored afterwards. */
  async function createUnlessPresent(name: string, value: string): Promise<string> {
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      try {
        await createSecret(name, value);
        return value;
      } catch (err) {
        lastError = err;
        if (isScheduledForDeletion(err)) {
          // The previous owner deleted it: logically absent, so the new value takes its place.
          try {
            await restoreWithValue(name, value);
            return value;
          } catch (restoreErr) {
            if (isNotFound(restoreErr) || isScheduledForDeletion(restoreErr)) {
              lastError = restoreErr;
              continue;
            }
            throw toSecretStoreError('RestoreSecret', name, restoreErr, value);
          }
        }
        if (!isExists(err)) throw toSecretStoreError('CreateSecret', name, err, value);
      }
      const stored = await readStored(name);
      if (stored !== undefined) return stored;
      // Deleted between our create and our read: try to create again.
    }
    throw toSecretStoreError('CreateSecret', name, lastError, value);
  }

  return {
    async get(name, opts) {
      const cached = cache.get(name);
      const acceptableAgeMs = Math.min(maxAgeMs, opts?.maxAgeMs ?? maxAgeMs);
      if (cached) {
        if (now() - cached.fetchedAt < acceptableAgeMs) return cached.value;
        if (now() - cached.fetchedAt >= maxAgeMs) cache.delete(name);
      }
      const pending = inFlight.get(name);
      if (pending) return pending;

      const startedAt = generation(name);
      const request = readStored(name).then(
        (value) => {
          if (inFlight.get(name) === request) inFlight.delete(name);
          if (value !== undefined && generation(name) === startedAt) remember(name, value);
          return value;
        },
        (err: unknown) => {
          if (inFlight.get(name) === request) inFlight.delete(name);
          throw err;
        },
      );
      inFlight.set(name, request);
      return request;
    },

    async put(name, value) {
      invalidate(name);
      try {
        await writeValue(name, value);
      } finally {
        invalidate(name);
      }
      remember(name, value);
    },

    async putIfAbsent(name, value) {
      invalidate(name);
      let stored: string;
      try {
        stored = await createUnlessPresent(name, value);
      } finally {
        invalidate(name);
      }
      remember(name, stored);
      return stored;
    },

    async delete(name) {
      invalidate(name);
      try {
        await client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      } catch (err) {
        // Missing, or already on its way out: either way it is gone for readers.
        if (!isNotFound(err) && !isScheduledForDeletion(err)) throw toSecretStoreError('DeleteSecret', name, err);
      } finally {
        invalidate(name);
      }
    },
  };
}
