import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Deps } from '../deps.js';
import { userView } from '../management/users.js';
import type { ExportField, UsersExportJob } from '../store/export-jobs-repository.js';
import { withLoginStats } from '../store/login-stats.js';
import type { JobRef } from './job-ports.js';
export { EXPORT_RETENTION_SECONDS } from './job-ports.js';

/** Attributes of Auth0's user that an export can name (a field may go deeper: `user_metadata.plan`, `identities[0].connection`). */
export const EXPORTABLE_ATTRIBUTES = [
  'user_id', 'email', 'email_verified', 'username', 'name', 'nickname', 'given_name', 'family_name', 'picture',
  'phone_number', 'identities', 'app_metadata', 'user_metadata', 'blocked', 'created_at', 'updated_at',
  'last_login', 'last_ip', 'logins_count',
] as const;

/** The columns of an export that names none. */
export const DEFAULT_EXPORT_FIELDS: ExportField[] = [
  'user_id', 'email', 'email_verified', 'username', 'name', 'nickname', 'given_name', 'family_name', 'picture',
  'phone_number', 'blocked', 'created_at', 'updated_at', 'last_login', 'last_ip', 'logins_count', 'identities',
  'app_metadata', 'user_metadata',
].map((name) => ({ name }));

/** An export reads at most this many users. */
export const MAX_EXPORT_USERS = 200_000;
/** Users read, given their login statistics and written to the file at a time. */
const EXPORT_PAGE = 100;

const FIELD_PATH = /^([A-Za-z_][A-Za-z0-9_]*)(\[\d{1,3}\])?(\.[A-Za-z0-9_-]{1,128}(\[\d{1,3}\])?){0,8}$/;

/** Why a list of export fields is refused (Auth0's wording), or undefined when it is fine. */
export function exportFieldsProblem(fields: ExportField[]): string | undefined {
  const names = new Set<string>();
  for (const [i, f] of fields.entries()) {
    const m = FIELD_PATH.exec(f.name);
    if (!m || !(EXPORTABLE_ATTRIBUTES as readonly string[]).includes(m[1])) return `'Invalid field name: ${f.name.slice(0, 128)}' on property fields.${i}.name.`;
    const out = f.export_as ?? f.name;
    if (names.has(out)) return `'Duplicate export name: ${out.slice(0, 128)}' on property fields.${i}.`;
    names.add(out);
  }
  return undefined;
}

/** The value at `a.b[0].c` of an object, or undefined. */
function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
    if (!m || cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[m[1]];
    if (m[2] !== undefined) cur = Array.isArray(cur) ? cur[Number(m[2])] : undefined;
  }
  return cur;
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The export file's text for some users: one JSON object per line (ndjson), or one row per user (csv; the header is `csvHeader`). */
export function exportLines(users: ReturnType<typeof userView>[], format: 'ndjson' | 'csv', fields: ExportField[]): string {
  const columns = fields.map((f) => ({ path: f.name, as: f.export_as ?? f.name }));
  if (format === 'ndjson') {
    return users
      .map((u) => JSON.stringify(Object.fromEntries(columns.map((c) => [c.as, valueAt(u, c.path)]).filter(([, v]) => v !== undefined))) + '\n')
      .join('');
  }
  return users.map((u) => columns.map((c) => csvCell(valueAt(u, c.path))).join(',') + '\r\n').join('');
}

const csvHeader = (fields: ExportField[]) => fields.map((f) => csvCell(f.export_as ?? f.name)).join(',') + '\r\n';

export const exportFileKey = (job: Pick<UsersExportJob, 'tenant' | 'id' | 'format'>) =>
  `exports/${encodeURIComponent(job.tenant)}/${job.id}.${job.format === 'csv' ? 'csv' : 'json'}.gz`;

/**
 * The text of an export, page by page: the users of its connection from the sharded listing (with
 * their login statistics, as `GET /api/v2/users` shows them), `EXPORT_PAGE` users at a time.
 * `counted` receives how many users were written.
 */
async function* exportChunks(deps: Pick<Deps, 'usersListing'>, job: UsersExportJob, counted: { users: number }): AsyncGenerator<string> {
  if (job.format === 'csv') yield csvHeader(job.fields);
  const index = deps.usersListing;
  const max = Math.min(job.limit ?? MAX_EXPORT_USERS, MAX_EXPORT_USERS);
  for await (const page of index.pages(job.tenant, (u) => !job.connection_id || u.connection_id === job.connection_id, max, EXPORT_PAGE)) {
    const stats = await deps.usersListing.loginStats(job.tenant, page.map((u) => u.user_id));
    counted.users += page.length;
    yield exportLines(page.map((u) => userView(withLoginStats(u, stats.get(u.user_id)))), job.format, job.fields);
  }
}

export type UsersExportDeps = Pick<Deps, 'usersListing' | 'exportJobs' | 'now' | 'sink' | 'jobs'>;
export type ExportJobEndDeps = Pick<Deps, 'exportJobs' | 'sink'>;

/**
 * Runs a users-export job in the job worker: the users streamed page by page through gzip into
 * the export store (never the whole listing in memory). Idempotent: a redelivered run writes the
 * same file again; a finished job is left alone. A failure throws, so the queue tries again; the
 * last delivery (or the dead-letter queue) ends the job `failed` (`failExportJob`).
 */
export async function runUsersExport(deps: UsersExportDeps, ref: Omit<JobRef, 'type'>): Promise<void> {
  const repo = deps.exportJobs;
  const job = await repo.get(ref.tenant, ref.id, Math.floor(deps.now() / 1000));
  if (!job || job.status === 'completed' || job.status === 'failed') return;
  if (!(await repo.transition(job.tenant, job.id, ['pending', 'processing'], 'processing'))) return;
  const files = deps.jobs?.exportFiles;
  if (!files) {
    deps.sink.error('users export failed', { tenant: job.tenant, job_id: job.id, error: 'no export store configured' });
    await repo.transition(job.tenant, job.id, ['processing'], 'failed', { error: 'export_failed' });
    return;
  }
  const key = exportFileKey(job);
  const counted = { users: 0 };
  const gzipped = Readable.from(exportChunks(deps, job, counted)).pipe(createGzip());
  await files.write(key, gzipped, job.format === 'csv' ? 'text/csv' : 'application/x-ndjson');
  await repo.transition(job.tenant, job.id, ['processing'], 'completed', { file_key: key, users_exported: counted.users });
  deps.sink.info('users export completed', { tenant: job.tenant, job_id: job.id, users: counted.users });
}

/** Ends an export job `failed` after its last attempt (or from the dead-letter queue): never stuck in `processing`. */
export async function failExportJob(deps: ExportJobEndDeps, ref: Omit<JobRef, 'type'>, reason: string): Promise<void> {
  const repo = deps.exportJobs;
  if (await repo.transition(ref.tenant, ref.id, ['pending', 'processing'], 'failed', { error: 'export_failed' })) {
    deps.sink.error('users export failed', { tenant: ref.tenant, job_id: ref.id, reason });
  }
}
