import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretStore } from './secret-store.js';

/**
 * The local secret store for `npm start` and the tests: a JSON file (mode 0600) when given a
 * path, otherwise memory only. Writes go through a temp file and a rename, so a crash never
 * leaves a half-written file. Several local server processes may share one file (as Lambda
 * instances share Secrets Manager): a change made by one is read again by the others.
 */
export function createLocalSecretStore(filePath?: string): SecretStore {
  let secrets: Record<string, string> = {};
  let loadedVersion = '';
  const versionOf = (path: string) => {
    try {
      const st = statSync(path);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return '';
    }
  };
  const load = () => {
    if (!filePath) return;
    const version = versionOf(filePath);
    if (version === loadedVersion) return;
    loadedVersion = version;
    try {
      secrets = JSON.parse(readFileSync(filePath, 'utf8')) as Record<string, string>;
    } catch {
      secrets = {};
    }
  };
  load();
  const persist = () => {
    if (!filePath) return;
    mkdirSync(dirname(filePath), { recursive: true });
    const tmp = `${filePath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    renameSync(tmp, filePath);
    loadedVersion = versionOf(filePath);
  };
  return {
    async get(name) {
      load();
      return Object.hasOwn(secrets, name) ? secrets[name] : undefined;
    },
    async put(name, value) {
      load();
      secrets[name] = value;
      persist();
    },
    async putIfAbsent(name, value) {
      load();
      if (!Object.hasOwn(secrets, name)) {
        secrets[name] = value;
        persist();
      }
      return secrets[name];
    },
    async delete(name) {
      load();
      if (Object.hasOwn(secrets, name)) {
        delete secrets[name];
        persist();
      }
    },
  };
}
