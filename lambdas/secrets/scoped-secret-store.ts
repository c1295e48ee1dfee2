import { secretNames, type SecretStore } from './secret-store.js';

/**
 * The secret names of one deployment: names built by `secretNames` (`auth0-migration/<tenant>/…`,
 * also stored as references in the table) are kept under the stack's own prefix
 * (`SECRET_PREFIX`, `auth0-migration/<stackName>`), so two stacks in one account never read or
 * overwrite each other's secrets and never sign with the same key. The IAM policies of each stack
 * name only its prefix (lib/secret-access.ts).
 */
export function scopeSecretNames(store: SecretStore, prefix: string | undefined): SecretStore {
  if (!prefix || prefix === secretNames.prefix) return store;
  const base = `${secretNames.prefix}/`;
  const scoped = (name: string) => (name.startsWith(base) ? `${prefix}/${name.slice(base.length)}` : name);
  return {
    get: (name) => store.get(scoped(name)),
    put: (name, value) => store.put(scoped(name), value),
    putIfAbsent: (name, value) => store.putIfAbsent(scoped(name), value),
    delete: (name) => store.delete(scoped(name)),
  };
}
