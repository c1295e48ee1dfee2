import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExportFileStore } from './job-ports.js';

/** Export files in a local folder (`npm start`, tests): the location is the file's `file://` URL. */
export function createLocalExportFiles(dir: string): ExportFileStore {
  const root = resolve(dir);
  const pathOf = (key: string) => {
    const path = resolve(join(root, key));
    if (!path.startsWith(root + '/')) throw new Error('export key outside the export folder');
    return path;
  };
  return {
    async put(key, body) {
      const path = pathOf(key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, body, { mode: 0o600 });
    },
    async location(key) {
      return pathToFileURL(pathOf(key)).href;
    },
  };
}
