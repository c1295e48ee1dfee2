/**
 * `npm run bench`: runs every bench module and prints one table each, then writes all results
 * to bench/results/latest.json. A bench module exports `bench = { name, run(): Promise<BenchReport> }`;
 * it is listed below or named `bench/<name>.bench.ts` (found automatically).
 * `npm run bench -- <filter>` runs only the benches whose name contains the filter.
 * Standalone bench scripts (they print their own output) run as child processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bench as tokenGrants, type BenchReport } from './token-grants.js';

interface BenchModule {
  name: string;
  run(): Promise<BenchReport>;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const selected = (name: string) => filters.length === 0 || filters.some((f) => name.includes(f));

/** Scripts that print their own report. */
const scripts = ['bundle-size.ts'];

async function discoverModules(): Promise<BenchModule[]> {
  const modules: BenchModule[] = [tokenGrants];
  for (const file of readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).sort()) {
    const mod = (await import(pathToFileURL(path.join(benchDir, file)).href)) as { bench?: BenchModule };
    if (mod.bench) modules.push(mod.bench);
  }
  return modules;
}

function printReport(report: BenchReport) {
  console.log(`\n== ${report.name} ==`);
  const columns = [...new Set(report.rows.flatMap((r) => Object.keys(r)))];
  const width = (col: string) => Math.max(col.length, ...report.rows.map((r) => String(r[col] ?? '').length));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(width(columns[i]))).join('  ');
  console.log(line(columns));
  console.log(line(columns.map((c) => '-'.repeat(width(c)))));
  for (const row of report.rows) console.log(line(columns.map((c) => String(row[c] ?? ''))));
  for (const note of report.notes) console.log(`  ${note}`);
  for (const t of report.targets) console.log(`  [${t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.actual}`);
}

async function main() {
  const results: Array<BenchReport | { name: string; output: string; status: number | null }> = [];
  for (const module of (await discoverModules()).filter((m) => selected(m.name))) {
    const report = await module.run();
    printReport(report);
    results.push(report);
  }
  for (const script of scripts.filter((s) => selected(s.replace(/\.ts$/, '')))) {
    console.log(`\n== ${script} ==`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, script)], { encoding: 'utf8', env: process.env });
    process.stdout.write(run.stdout);
    if (run.status !== 0) process.stderr.write(run.stderr);
    results.push({ name: script, output: run.stdout, status: run.status });
  }
  const outDir = path.join(benchDir, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
  console.log(`\nwritten to ${path.relative(process.cwd(), path.join(outDir, 'latest.json'))}`);
}

await main();
