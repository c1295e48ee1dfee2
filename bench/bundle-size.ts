/**
 * Bundle size and module initialisation time of each Lambda, bundled exactly as the stack
 * bundles it (options from lib/handler-bundling.ts).
 *
 *   npx tsx bench/bundle-size.ts
 *
 * Size: bytes of the minified `index.mjs` (the source map ships next to it, not counted).
 * Init: median over 7 fresh `node` processes of the time `await import(bundle)` takes, once
 * plain and once with `--enable-source-maps` (how an operator may run it to get mapped stacks).
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionName } from '../lambdas/routes.js';
import { bundleFileName, esbuildOptionsFor, handlerEntries } from '../lib/handler-bundling.js';
import { median } from './support/stats.js';

const RUNS = 7;
const SIZE_LIMIT_BYTES = 400 * 1024;
const INIT_LIMIT_MS = 80;

/** What the handlers read at import time; no AWS call is made while importing. */
const handlerEnv = {
  TABLE_NAME: 'bench-table',
  SECRET_PREFIX: 'auth0-migration',
  POWERTOOLS_SERVICE_NAME: 'bench',
  LOG_LEVEL: 'WARN',
  DEFAULT_TENANT: 'default',
  UPSTREAM_TIMEOUT_MS: '4000',
  UPSTREAM_BUDGET_MS: '8000',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
};


function measureInit(bundle: string, withSourceMaps: boolean): number {
  const script =
    `const start = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); ` +
    'process.stdout.write(String(performance.now() - start));';
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const args = [...(withSourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script];
    const run = spawnSync(process.execPath, args, { env: { PATH: process.env.PATH, ...handlerEnv }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`importing ${bundle} failed:\n${run.stderr}`);
    samples.push(Number(run.stdout.trim().split('\n').pop()));
  }
  return median(samples);
}

async function main() {
  const outRoot = mkdtempSync(path.join(tmpdir(), 'bundle-bench-'));
  const rows: Array<{ fn: FunctionName; bytes: number; initMs: number; initWithSourceMapsMs: number }> = [];
  try {
    for (const [fn, entry] of Object.entries(handlerEntries) as Array<[FunctionName, string]>) {
      if (!existsSync(entry)) {
        console.log(`${fn}: entry ${path.relative(process.cwd(), entry)} does not exist yet, skipped`);
        continue;
      }
      const outfile = path.join(outRoot, fn, bundleFileName);
      await build(esbuildOptionsFor(entry, outfile));
      rows.push({
        fn,
        bytes: statSync(outfile).size,
        initMs: measureInit(outfile, false),
        initWithSourceMapsMs: measureInit(outfile, true),
      });
    }
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
  console.log(`node ${process.version}, ${RUNS} fresh processes per figure (median)`);
  console.log('function     bytes (min)   KB      init ms   init ms (--enable-source-maps)   within targets');
  for (const row of rows) {
    const ok = row.bytes <= SIZE_LIMIT_BYTES && row.initWithSourceMapsMs <= INIT_LIMIT_MS;
    console.log(
      `${row.fn.padEnd(12)} ${String(row.bytes).padStart(11)}   ${(row.bytes / 1024).toFixed(1).padStart(6)}  ` +
        `${row.initMs.toFixed(1).padStart(8)}   ${row.initWithSourceMapsMs.toFixed(1).padStart(8)}` +
        `${' '.repeat(25)}${ok ? 'yes' : 'NO'} (<= ${SIZE_LIMIT_BYTES / 1024} KB, <= ${INIT_LIMIT_MS} ms)`,
    );
  }
}

await main();
