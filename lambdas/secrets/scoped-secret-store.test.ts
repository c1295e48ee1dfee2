import { describe, expect, it } from 'vitest';
import { createLocalSecretStore } from './local-secret-store.js';
import { scopeSecretNames } from './scoped-secret-store.js';
import { secretNames } from './secret-store.js';

describe('scopeSecretNames', () => {
  it('keeps two stacks sharing one secret store apart: neither reads nor overwrites the other\'s keys', async () => {
    const account = createLocalSecretStore();
    const prod = scopeSecretNames(account, 'auth0-migration/Prod');
    const staging = scopeSecretNames(account, 'auth0-migration/Staging');
    const name = secretNames.signingKeys('dev');

    await prod.put(name, 'prod-key');
    expect(await staging.get(name)).toBeUndefined();
    expect(await staging.putIfAbsent(name, 'staging-key')).toBe('staging-key');
    expect(await prod.get(name)).toBe('prod-key');
    expect(await account.get('auth0-migration/Prod/dev/signing-keys')).toBe('prod-key');
    expect(await account.get('auth0-migration/Staging/dev/signing-keys')).toBe('staging-key');

    await staging.delete(name);
    expect(await prod.get(name)).toBe('prod-key');
  });

  it('leaves names as they are without a prefix (local server, tests)', async () => {
    const store = createLocalSecretStore();
    expect(scopeSecretNames(store, undefined)).toBe(store);
    expect(scopeSecretNames(store, secretNames.prefix)).toBe(store);
  });
});
