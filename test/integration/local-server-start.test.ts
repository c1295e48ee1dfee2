import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalServerStartError, startLocalServer, type LocalServer } from '../../bin/local/server.js';

/**
 * `npm start` failures a newcomer can fix are one plain line: a busy port (found before any
 * data folder is created or seeded) and a data folder another server holds; Ctrl-C says it stopped.
 */
const root = mkdtempSync(path.join(tmpdir(), 'local-start-'));
let first: LocalServer;
const dataDir = path.join(root, 'data');

beforeAll(async () => {
  first = await startLocalServer({ port: 0, dataDir, config: { bcryptCost: 4 } });
});
afterAll(async () => {
  await first?.close();
  rmSync(root, { recursive: true, force: true });
});

function runCli(env: Record<string, string>, untilReady = false): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local-server.ts'], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (untilReady && out.includes('Ctrl-C stops the server')) child.kill('SIGINT');
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('starting the local server', () => {
  it('a busy port fails before the data folder is created, in one line', async () => {
    const fresh = path.join(root, 'never-created');
    await expect(startLocalServer({ port: first.port, dataDir: fresh })).rejects.toThrow(LocalServerStartError);
    expect(existsSync(fresh)).toBe(false);
    const cli = await runCli({ PORT: String(first.port), DATA_DIR: fresh });
    expect(cli.code).toBe(1);
    expect(cli.err.trim()).toBe(`npm start: port ${first.port} is already in use: stop what runs there, or set PORT`);
    expect(existsSync(fresh)).toBe(false);
  }, 60_000);

  it('a data folder held by another server is refused with a plain line, not "Database is closed"', async () => {
    await expect(startLocalServer({ port: 0, dataDir })).rejects.toThrow(/is in use by another server \(pid \d+\)/);
  });

  it('Ctrl-C says it stops and stopped', async () => {
    const cli = await runCli({ PORT: '0', DATA_DIR: path.join(root, 'ctrl-c') }, true);
    expect(cli.code, cli.err).toBe(0);
    expect(cli.out).toMatch(/stopping\.\.\.\nstopped; data kept in /);
  }, 60_000);
});
