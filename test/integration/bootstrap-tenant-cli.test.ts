import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as bootstrapCli } from '../../bin/bootstrap-tenant.js';
import { startEmbeddedEngine, type EmbeddedEngine } from '../../bin/local/embedded-engine.js';

/** The bootstrap CLI answers help, bad options and wrong tables in plain lines, never a stack trace. */
let engine: EmbeddedEngine;
beforeAll(async () => {
  engine = await startEmbeddedEngine();
});
afterAll(() => engine?.close());

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [write, writeErr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((c: string) => (out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await bootstrapCli(argv), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

describe('bootstrap-tenant CLI', () => {
  it('--help prints the usage, --endpoint included, and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^usage: npm run bootstrap-tenant/);
    for (const option of ['--table', '--tenant', '--domain', '--region', '--endpoint']) expect(out).toContain(option);
  });

  it('an unknown option or a missing --table is one line plus the usage, exit 2', async () => {
    for (const argv of [['--bogus'], []]) {
      const { code, err } = await run(argv);
      expect(code).toBe(2);
      expect(err.split('\n')[0]).toMatch(/^bootstrap-tenant: /);
      expect(err).not.toMatch(/\n\s+at /);
    }
  });

  it('a table that does not exist is one plain line, exit 1', async () => {
    const { code, err } = await run(['--table', 'no-such-table', '--endpoint', engine.endpoint, '--region', 'eu-west-1']);
    expect(code).toBe(1);
    expect(err.trim()).toBe('bootstrap-tenant: table "no-such-table" not found in eu-west-1: use the TableName output of the stack (and its region)');
  });
});
