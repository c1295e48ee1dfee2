/**
 * Keeps an upstream token response (its rotated refresh token included) encrypted at rest while
 * a re-mint is unfinished: AES-256-GCM with a per-tenant random key held in the secret store
 * (created once with putIfAbsent, so concurrent first users agree on it). The ciphertext is bound
 * to the ledger record it belongs to (additional authenticated data), so it cannot be moved to
 * another record. Keys are cached per process; nothing here logs a value.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretStore } from '../secrets/secret-store.js';
import { secretNames } from '../secrets/secret-store.js';
import type { UpstreamTokenResponse } from './upstream-client.js';

const FORMAT = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;

export const remintKeySecretName = secretNames.remintKey;

export interface UpstreamAnswerSealer {
  seal(tenant: string, boundTo: string, answer: UpstreamTokenResponse): Promise<string>;
  /** The answer, or undefined when the ciphertext is not readable with the tenant's key. */
  open(tenant: string, boundTo: string, sealed: string): Promise<UpstreamTokenResponse | undefined>;
}

export function createUpstreamAnswerSealer(secrets: SecretStore): UpstreamAnswerSealer {
  const keys = new Map<string, Promise<Buffer>>();

  const keyOf = (tenant: string): Promise<Buffer> => {
    let key = keys.get(tenant);
    if (!key) {
      key = loadOrCreateKey(secrets, tenant);
      keys.set(tenant, key);
      key.catch(() => keys.delete(tenant));
    }
    return key;
  };

  return {
    async seal(tenant, boundTo, answer) {
      const key = await keyOf(tenant);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(boundTo, 'utf8'));
      const body = Buffer.concat([cipher.update(JSON.stringify(answer), 'utf8'), cipher.final()]);
      return [FORMAT, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },

    async open(tenant, boundTo, sealed) {
      const [format, iv, body, tag] = sealed.split('.');
      if (format !== FORMAT || !iv || !body || !tag) return undefined;
      const key = await keyOf(tenant);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(boundTo, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
        const answer = JSON.parse(plain.toString('utf8')) as UpstreamTokenResponse;
        return typeof answer?.access_token === 'string' ? answer : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

async function loadOrCreateKey(secrets: SecretStore, tenant: string): Promise<Buffer> {
  const name = remintKeySecretName(tenant);
  const stored = (await secrets.get(name)) ?? (await secrets.putIfAbsent(name, randomBytes(KEY_BYTES).toString('base64')));
  const key = Buffer.from(stored, 'base64');
  if (key.length !== KEY_BYTES) throw new Error('the re-mint key in the secret store has the wrong length');
  return key;
}
