/**
 * Reads an Auth0 user export as a stream of records, without holding the file in memory:
 * NDJSON (what `/api/v2/jobs/users-exports` writes, and Auth0's password-hash export) or a
 * JSON array (the import format), gzipped or not (told by the gzip magic bytes).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface ReadPosition {
  /** Bytes of the file read so far (compressed bytes for a gzip file): progress and ETA. */
  bytesRead: number;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Splits a JSON array text stream into the texts of its top-level elements: tracks strings,
 * escapes and nesting, and cuts at the commas of depth 1. No element is parsed here.
 */
function createArraySplitter() {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let current = '';
  let started = false;
  return function push(chunk: string): string[] {
    const out: string[] = [];
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '[' || c === '{') {
        depth++;
        if (depth === 1 && c === '[' && !started) {
          started = true;
          from = i + 1;
        }
      } else if (c === ']' || c === '}') {
        depth--;
        if (depth === 0) {
          current += chunk.slice(from, i);
          if (current.trim()) out.push(current);
          current = '';
          from = i + 1;
        }
      } else if (c === ',' && depth === 1) {
        current += chunk.slice(from, i);
        if (current.trim()) out.push(current);
        current = '';
        from = i + 1;
      }
    }
    if (depth >= 1) current += chunk.slice(from);
    return out;
  };
}

/** Every record of the file, in order, with the position reached. */
export async function* readExportRecords(path: string, position: ReadPosition = { bytesRead: 0 }): AsyncGenerator<unknown> {
  const counted = createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        position.bytesRead += chunk.length;
        done(null, chunk);
      },
    }),
  );
  const text = (await isGzip(path)) ? counted.pipe(createGunzip()) : counted;
  text.setEncoding('utf8');
  let format: 'array' | 'ndjson' | undefined;
  let pending = '';
  const split = createArraySplitter();
  for await (const chunk of text as AsyncIterable<string>) {
    if (!format) {
      const first = (pending + chunk).trimStart()[0];
      if (first === undefined) {
        pending += chunk;
        continue;
      }
      format = first === '[' ? 'array' : 'ndjson';
    }
    if (format === 'array') {
      for (const element of split(pending + chunk)) yield JSON.parse(element);
      pending = '';
      continue;
    }
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) yield JSON.parse(line);
  }
  if (format !== 'array' && pending.trim()) yield JSON.parse(pending);
}

/** The fields of Auth0's import schema; everything else of an export line is left out. */
const IMPORT_FIELDS = [
  'email',
  'email_verified',
  'user_id',
  'username',
  'given_name',
  'family_name',
  'name',
  'nickname',
  'picture',
  'blocked',
  'phone_number',
  'password_hash',
  'custom_password_hash',
  'app_metadata',
  'user_metadata',
] as const;

/**
 * One export record as an import user. Profile lines keep the import schema's fields (and the
 * `provider|id` user_id, which the service keeps); Auth0's password-hash export lines
 * (`{"_id":{"$oid":…},"email":…,"passwordHash":"$2b$…"}`) become `{user_id: "auth0|<oid>", email,
 * email_verified, password_hash}`. Anything else is passed on as it is, and the service reports it.
 */
export function toImportUser(record: unknown): unknown {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return record;
  const r = record as Record<string, unknown>;
  const oid = (r._id as { $oid?: unknown } | undefined)?.$oid;
  if (typeof r.passwordHash === 'string' && typeof oid === 'string') {
    return {
      user_id: `auth0|${oid}`,
      email: r.email,
      ...(typeof r.email_verified === 'boolean' ? { email_verified: r.email_verified } : {}),
      password_hash: r.passwordHash,
    };
  }
  if (!('user_id' in r) && !('email' in r)) return record;
  const out: Record<string, unknown> = {};
  for (const field of IMPORT_FIELDS) if (r[field] !== undefined && r[field] !== null) out[field] = r[field];
  return out;
}

/** Two records of one user (a profile line and its password-hash line): one import user. */
export function mergeImportUsers(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  return { ...a, ...b, ...(a.email_verified === true || b.email_verified === true ? { email_verified: true } : {}) };
}
