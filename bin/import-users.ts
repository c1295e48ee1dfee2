import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mergeImportUsers, readExportRecords, toImportUser, type ReadPosition } from './import-users/export-reader.js';
import { connectJobsApi, ImportCallError, type JobsApi, type JobState } from './import-users/jobs-client.js';

const USAGE = `usage: npm run import -- <export file> --connection <name> [--upsert]
                      --target <https://your-domain> --client-id <id> --client-secret <secret>
                      [--checkpoint <file>] [--errors <file>] [--max-bytes <n>] [--restart]
Streams an Auth0 user export (NDJSON or a JSON array, gzipped or not, password-hash export lines
included) into import jobs of at most 500 KB. Progress is kept in the checkpoint file (default
<export>.import-checkpoint.json): run the same command again after Ctrl-C or a crash to resume.
The client secret may also come from IMPORT_TARGET_CLIENT_SECRET.
`;

const MAX_JOB_BYTES = 500 * 1024;
/** Room for the multipart envelope is on the service's side; a file is kept this much under the limit. */
const JOB_MARGIN = 1024;

interface Checkpoint {
  file: string;
  size: number;
  connection: string;
  upsert: boolean;
  /** Records of the export fully handled (their job completed): the next run starts after them. */
  next: number;
  /** A job started but not yet seen complete: a resumed run waits for it instead of sending it again. */
  pending?: { id: string; first: number; count: number };
  totals: { inserted: number; updated: number; failed: number; total: number };
  jobs: number;
  done: boolean;
}

export interface ImportUsersIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Time between two looks at a running job (default 500 ms). */
  pollMs?: number;
  /** Whether to redraw a progress line in place (a terminal) or print a line now and then. */
  tty?: boolean;
  now?: () => number;
}

function saveCheckpoint(path: string, c: Checkpoint): void {
  // Written beside and renamed: a crash mid-write never leaves half a checkpoint.
  writeFileSync(`${path}.tmp`, JSON.stringify(c, null, 2));
  renameSync(`${path}.tmp`, path);
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * `npm run import`: reads the export record by record, cuts it into import files of at most
 * 500 KB (a profile line and the password-hash line of the same user, when both fall in one
 * file, become one user), runs one job at a time and waits for it, writes each job's errors to
 * the errors file and its progress to the checkpoint, and ends with a summary.
 */
export async function main(argv: string[], io: ImportUsersIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), tty: process.stderr.isTTY }): Promise<{ code: number; totals?: Checkpoint['totals'] }> {
  const env = io.env ?? process.env;
  const now = io.now ?? Date.now;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        connection: { type: 'string' },
        upsert: { type: 'boolean', default: false },
        target: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        checkpoint: { type: 'string' },
        errors: { type: 'string' },
        'max-bytes': { type: 'string' },
        restart: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return { code: 2 };
  }
  const { values, positionals } = parsed;
  const secret = values['client-secret'] ?? env.IMPORT_TARGET_CLIENT_SECRET;
  const maxBytes = Math.min(Number(values['max-bytes'] ?? MAX_JOB_BYTES), MAX_JOB_BYTES) - JOB_MARGIN;
  if (positionals.length !== 1 || !values.connection || !values.target || !values['client-id'] || !secret || !(maxBytes > 1000)) {
    io.err(USAGE);
    return { code: 2 };
  }
  const file = resolve(positionals[0]);
  if (!existsSync(file)) {
    io.err(`import: ${file} does not exist\n`);
    return { code: 2 };
  }
  const size = statSync(file).size;
  const checkpointPath = resolve(values.checkpoint ?? `${file}.import-checkpoint.json`);
  const errorsPath = resolve(values.errors ?? `${file}.import-errors.ndjson`);

  let checkpoint: Checkpoint = { file, size, connection: values.connection, upsert: values.upsert, next: 0, totals: { inserted: 0, updated: 0, failed: 0, total: 0 }, jobs: 0, done: false };
  if (existsSync(checkpointPath) && !values.restart) {
    const saved = JSON.parse(readFileSync(checkpointPath, 'utf8')) as Checkpoint;
    if (saved.file !== file || saved.size !== size || saved.connection !== values.connection || saved.upsert !== values.upsert) {
      io.err(`import: ${checkpointPath} belongs to another file or other options; remove it or pass --restart\n`);
      return { code: 2 };
    }
    checkpoint = saved;
    if (checkpoint.done) {
      io.out(`Already imported (${checkpointPath}); pass --restart to import again.\n`);
      return { code: 0, totals: checkpoint.totals };
    }
    io.out(`Resuming after ${checkpoint.next} records (${checkpoint.jobs} jobs done).\n`);
  } else if (!existsSync(checkpointPath) || values.restart) {
    writeFileSync(errorsPath, '');
  }

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    const base = /^https?:\/\//i.test(values.target) ? values.target : `https://${values.target}`;
    const api = await connectJobsApi({ base, clientId: values['client-id'], clientSecret: secret, fetch: io.fetch });
    const connectionId = await api.connectionId(values.connection);
    const started = now();
    const startTotal = checkpoint.totals.total;
    const position: ReadPosition = { bytesRead: 0 };
    let lastPrint = 0;
    const progress = (final = false) => {
      const t = now();
      if (!final && t - lastPrint < (io.tty ? 200 : 5000)) return;
      lastPrint = t;
      const seconds = (t - started) / 1000;
      const rate = (checkpoint.totals.total - startTotal) / Math.max(seconds, 0.001);
      const fraction = size > 0 ? position.bytesRead / size : 1;
      const eta = fraction > 0 && fraction < 1 ? seconds / fraction - seconds : 0;
      const line = `users ${checkpoint.totals.total.toLocaleString('en')}  ${Math.round(rate).toLocaleString('en')} users/s  ETA ${formatDuration(eta)}  errors ${checkpoint.totals.failed.toLocaleString('en')}`;
      if (io.tty) io.err(`\r${line}\u001b[K${final ? '\n' : ''}`);
      else io.err(`${line}\n`);
    };

    const finishJob = async (job: { id: string; first: number; count: number }) => {
      const state = await waitFor(api, job.id, io.pollMs ?? 500, () => interrupted, progress);
      if (!state) return false;
      if (state.status === 'failed') throw new ImportCallError(500, `job ${job.id} failed on the service (see its logs)`);
      if ((state.summary?.failed ?? 0) > 0) {
        const errors = await api.jobErrors(job.id);
        appendFileSync(errorsPath, errors.map((e) => JSON.stringify({ job_id: job.id, ...(e as object) })).join('\n') + (errors.length ? '\n' : ''));
      }
      const s = state.summary ?? { inserted: 0, updated: 0, failed: 0, total: 0 };
      checkpoint.totals = {
        inserted: checkpoint.totals.inserted + s.inserted,
        updated: checkpoint.totals.updated + s.updated,
        failed: checkpoint.totals.failed + s.failed,
        total: checkpoint.totals.total + s.total,
      };
      checkpoint.next = job.first + job.count;
      checkpoint.jobs++;
      delete checkpoint.pending;
      saveCheckpoint(checkpointPath, checkpoint);
      progress();
      return true;
    };

    if (checkpoint.pending && !(await finishJob(checkpoint.pending))) return stop(io, checkpointPath);

    const runId = createHash('sha256').update(`${file}\n${size}\n${values.connection}`).digest('hex').slice(0, 16);
    let index = 0;
    let chunk: Record<string, unknown>[] = [];
    let byUserId = new Map<string, number>();
    let chunkBytes = 2;
    let first = checkpoint.next;
    const send = async () => {
      if (chunk.length === 0) return true;
      const users = JSON.stringify(chunk);
      const count = index - first;
      // The same part of the same file always has the same external_id: sent again after a crash
      // (before the job's id was saved), its users already imported are not reported as duplicates.
      const job = await api.startImport({ users, connectionId, upsert: values.upsert, externalId: `${runId}:${first}` });
      checkpoint.pending = { id: job.id, first, count };
      saveCheckpoint(checkpointPath, checkpoint);
      chunk = [];
      byUserId = new Map();
      chunkBytes = 2;
      first = index;
      return finishJob(checkpoint.pending);
    };

    for await (const record of readExportRecords(file, position)) {
      if (index < checkpoint.next) {
        index++;
        continue;
      }
      if (interrupted) return stop(io, checkpointPath);
      const user = toImportUser(record) as Record<string, unknown>;
      const userId = typeof user?.user_id === 'string' ? user.user_id : undefined;
      const same = userId !== undefined ? byUserId.get(userId) : undefined;
      if (same !== undefined) {
        const merged = mergeImportUsers(chunk[same], user);
        chunkBytes += JSON.stringify(merged).length - JSON.stringify(chunk[same]).length;
        chunk[same] = merged;
      } else {
        const bytes = Buffer.byteLength(JSON.stringify(user)) + 1;
        if (chunk.length > 0 && chunkBytes + bytes > maxBytes) {
          if (!(await send())) return stop(io, checkpointPath);
        }
        if (userId !== undefined) byUserId.set(userId, chunk.length);
        chunk.push(user);
        chunkBytes += bytes;
      }
      index++;
    }
    if (!(await send())) return stop(io, checkpointPath);
    checkpoint.done = true;
    saveCheckpoint(checkpointPath, checkpoint);
    progress(true);
    const t = checkpoint.totals;
    io.out(
      `\nImported ${file}\n  inserted ${t.inserted}, updated ${t.updated}, failed ${t.failed}, total ${t.total} in ${checkpoint.jobs} jobs (${formatDuration((now() - started) / 1000)} this run)\n` +
        (t.failed ? `  errors: ${errorsPath}\n` : '  no errors\n'),
    );
    return { code: t.failed ? 1 : 0, totals: t };
  } catch (err) {
    io.err(`\nimport: ${err instanceof Error ? err.message : String(err)}\nProgress is saved in ${checkpointPath}: run the same command again to resume.\n`);
    return { code: 1 };
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function stop(io: ImportUsersIo, checkpointPath: string): { code: number } {
  io.err(`\nInterrupted. Progress is saved in ${checkpointPath}: run the same command again to resume.\n`);
  return { code: 130 };
}

/** Polls a job until it is completed or failed; undefined when interrupted first. */
async function waitFor(api: JobsApi, id: string, pollMs: number, interrupted: () => boolean, tick: () => void): Promise<JobState | undefined> {
  for (;;) {
    const state = await api.getJob(id);
    if (state.status === 'completed' || state.status === 'failed') return state;
    if (interrupted()) return undefined;
    tick();
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = (await main(process.argv.slice(2))).code;
}
