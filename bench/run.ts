/**
 * `npm run bench`: runs every bench in this folder, prints each result, and writes them all to
 * bench/results/latest.json.
 *
 * A bench is a module here that exports either `bench = { name, run() }` or async functions
 * named `bench<Something>()` (called without arguments). A result with `rows` (and optionally
 * `notes`, `targets`) prints as a table (see BenchReport); any other result prints as JSON.
 * Standalone scripts that run on import (listed in `scripts`) run as child processes.
 * `npm run bench -- <filter>` runs only the benches whose name contains a filter;
 * `npm run bench -- --list` lists the names. A filter that matches nothing lists them and exits 2
 * without touching latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchReport } from './token-grants.js';

interface Bench {
  name: string;
  run(): Promise<unknown>;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const listOnly = args.some((a) => a === '--list' || a === '--help' || a === '-h');
const filters = args.filter((a) => !a.startsWith('-'));
const selected = (name: string) => filters.length === 0 || filters.some((f) => name.includes(f));

/** Scripts that run (and print their own report) as soon as they are imported. */
const scripts = ['bundle-size.ts'];

async function discoverBenches(): Promise<Bench[]> {
  const benches: Bench[] = [];
  const files = readdirSync(benchDir).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !scripts.includes(f)).sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(benchDir, file)).href)) as Record<string, unknown>;
    for (const [exported, value] of Object.entries(mod)) {
      if (exported === 'bench' && value && typeof (value as Bench).run === 'function') benches.push(value as Bench);
      else if (/^bench[A-Z]/.test(exported) && typeof value === 'function') {
        benches.push({ name: `${file.replace(/\.ts$/, '')}:${exported}`, run: value as () => Promise<unknown> });
      }
    }
  }
  return benches;
}

function isReport(result: unknown): result is BenchReport {
  return !!result && Array.isArray((result as BenchReport).rows);
}

function printReport(report: BenchReport) {
  const columns = [...new Set(report.rows.flatMap((r) => Object.keys(r)))];
  const width = (col: string) => Math.max(col.length, ...report.rows.map((r) => String(r[col] ?? '').length));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(width(columns[i]))).join('  ');
  console.log(line(columns));
  console.log(line(columns.map((c) => '-'.repeat(width(c)))));
  for (const row of report.rows) console.log(line(columns.map((c) => String(row[c] ?? ''))));
  for (const note of report.notes ?? []) console.log(`  ${note}`);
  for (const t of report.targets ?? []) console.log(`  [${t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.actual}`);
}

async function main() {
  const benches = await discoverBenches();
  const names = [...benches.map((b) => b.name), ...scripts.map((s) => s.replace(/\.ts$/, ''))];
  const unknownOptions = args.filter((a) => a.startsWith('-') && !['--list', '--help', '-h'].includes(a));
  const unmatched = filters.filter((f) => !names.some((name) => name.includes(f)));
  if (listOnly || unknownOptions.length > 0 || unmatched.length > 0) {
    if (unknownOptions.length > 0) console.error(`unknown option ${unknownOptions.join(', ')}`);
    if (unmatched.length > 0) console.error(`no bench matches ${unmatched.map((f) => `"${f}"`).join(', ')}`);
    console.log(`usage: npm run bench [-- <filter>...]   (a filter selects the benches whose name contains it)\nbenches:\n${names.map((n) => `  ${n}`).join('\n')}`);
    process.exitCode = listOnly && unknownOptions.length + unmatched.length === 0 ? 0 : 2;
    return;
  }
  const results: Array<{ name: string; result?: unknown; output?: string; error?: string }> = [];
  for (const bench of benches.filter((b) => selected(b.name))) {
    console.log(`\n== ${bench.name} ==`);
    try {
      const result = await bench.run();
      if (isReport(result)) printReport(result);
      else console.log(JSON.stringify(result, null, 2));
      results.push({ name: bench.name, result });
    } catch (err) {
      process.exitCode = 1;
      console.error(`failed: ${(err as Error).message}`);
      results.push({ name: bench.name, error: (err as Error).message });
    }
  }
  for (const script of scripts.filter((s) => selected(s.replace(/\.ts$/, '')))) {
    console.log(`\n== ${script} ==`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, script)], { encoding: 'utf8', env: process.env });
    process.stdout.write(run.stdout);
    if (run.status !== 0) {
      process.exitCode = 1;
      process.stderr.write(run.stderr);
    }
    results.push({ name: script, output: run.stdout, ...(run.status !== 0 ? { error: `exit ${run.status}` } : {}) });
  }
  const outDir = path.join(benchDir, 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, 'latest.json');
  writeFileSync(outFile, `${JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
  console.log(`\nwritten to ${path.relative(process.cwd(), outFile)}`);
}

await main();
