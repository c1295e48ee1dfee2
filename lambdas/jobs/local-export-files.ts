import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
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
    async write(key, body) {
      const path = pathOf(key);
      mkdirSync(dirname(path), { recursive: true });
      try {
        await pipeline(body, createWriteStream(path, { mode: 0o600 }));
      } catch (err) {
        rmSync(path, { force: true });
        throw err;
      }
    },
    async location(key) {
      return pathToFileURL(pathOf(key)).href;
    },
  };
}
