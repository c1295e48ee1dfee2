import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { secretNames, type SecretStore } from '../secrets/secret-store.js';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

interface StoredKeys {
  keys: { kid: string; private_jwk: JWK; created_at: string }[];
}

async function toSigningKey(entry: StoredKeys['keys'][number]): Promise<SigningKey> {
  const privateKey = (await importJWK(entry.private_jwk, 'RS256')) as CryptoKey;
  const { kty, n, e } = entry.private_jwk;
  return { kid: entry.kid, privateKey, publicJwk: { kty, n, e, kid: entry.kid, use: 'sig', alg: 'RS256' } };
}

/**
 * A tenant's RS256 signing keys, created on first use and kept in the secret store (never in
 * the table, never returned but as public JWKs). Two processes racing to create the first key
 * agree on one through `putIfAbsent`. Loaded keys stay in memory for the process's life.
 */
export function createSigningKeyProvider(secrets: SecretStore) {
  const cache = new Map<string, Promise<SigningKey[]>>();

  async function load(tenant: string): Promise<SigningKey[]> {
    const name = secretNames.signingKeys(tenant);
    let raw = await secrets.get(name);
    if (!raw) {
      const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
      const candidate: StoredKeys = {
        keys: [
          {
            kid: randomBytes(16).toString('base64url'),
            private_jwk: await exportJWK(privateKey),
            created_at: new Date().toISOString(),
          },
        ],
      };
      raw = await secrets.putIfAbsent(name, JSON.stringify(candidate));
    }
    const stored = JSON.parse(raw) as StoredKeys;
    return Promise.all(stored.keys.map(toSigningKey));
  }

  function keysOf(tenant: string): Promise<SigningKey[]> {
    let entry = cache.get(tenant);
    if (!entry) {
      entry = load(tenant);
      cache.set(tenant, entry);
      entry.catch(() => cache.delete(tenant));
    }
    return entry;
  }

  return {
    /** The key new tokens are signed with (the newest). */
    async current(tenant: string): Promise<SigningKey> {
      const all = await keysOf(tenant);
      return all[all.length - 1];
    },
    /** Every public key that verifies this tenant's tokens. */
    async publicJwks(tenant: string): Promise<{ keys: JWK[] }> {
      return { keys: (await keysOf(tenant)).map((k) => k.publicJwk) };
    },
  };
}

export type SigningKeyProvider = ReturnType<typeof createSigningKeyProvider>;
