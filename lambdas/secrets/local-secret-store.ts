import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretStore } from './secret-store.js';

/**
 * The local secret store for `npm start` and the tests: a JSON file (mode 0600) when given a
 * path, otherwise memory only. Writes go through a temp file and a rename, so a crash never
 * leaves a half-written file.
 */
export function createLocalSecretStore(filePath?: string): SecretStore {
  let secrets: Record<string, string> = {};
  if (filePath) {
    try {
      secrets = JSON.parse(readFileSync(filePath, 'utf8')) as Record<string, string>;
    } catch {
      secrets = {};
    }
  }
  const persist = () => {
    if (!filePath) return;
    mkdirSync(dirname(filePath), { recursive: true });
    const tmp = `${filePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    renameSync(tmp, filePath);
  };
  return {
    async get(name) {
      return Object.hasOwn(secrets, name) ? secrets[name] : undefined;
    },
    async put(name, value) {
      secrets[name] = value;
      persist();
    },
    async putIfAbsent(name, value) {
      if (!Object.hasOwn(secrets, name)) {
        secrets[name] = value;
        persist();
      }
      return secrets[name];
    },
    async delete(name) {
      if (Object.hasOwn(secrets, name)) {
        delete secrets[name];
        persist();
      }
    },
  };
}
