import { parseCustomPasswordHash } from '../identity/custom-password-hash.js';
import type { ImportError } from '../store/flow-records.js';

/**
 * Auth0's bulk-import user schema ("Bulk User Import Database Schema and Examples"), checked
 * user by user. Errors have the shape Auth0's job errors have (`{code, message, path}`, the
 * codes of its JSON-schema validator), and never echo a password hash.
 */

export type { ImportError } from '../store/flow-records.js';

/** A user of the import file once it passed the schema. */
export interface ImportedUser {
  email: string;
  email_verified?: boolean;
  user_id?: string;
  username?: string;
  given_name?: string;
  family_name?: string;
  name?: string;
  nickname?: string;
  picture?: string;
  phone_number?: string;
  blocked?: boolean;
  password_hash?: string;
  custom_password_hash?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
}

/** `app_metadata` keys Auth0 keeps for itself: an import that sets one is refused. */
export const RESERVED_APP_METADATA_KEYS = [
  '__tenant',
  '_id',
  'blocked',
  'clientID',
  'created_at',
  'email_verified',
  'email',
  'globalClientID',
  'global_client_id',
  'identities',
  'lastIP',
  'lastLogin',
  'loginsCount',
  'metadata',
  'multifactor_last_modified',
  'multifactor',
  'updated_at',
  'user_id',
] as const;

/** The algorithms Auth0's `custom_password_hash` accepts. */
export const CUSTOM_HASH_ALGORITHMS = [
  'argon2',
  'bcrypt',
  'hmac',
  'ldap',
  'md4',
  'md5',
  'sha1',
  'sha256',
  'sha512',
  'pbkdf2',
  'scrypt',
] as const;

/** bcrypt as Auth0's `password_hash` takes it: `$2a$`, `$2b$` or `$2y$`, cost, 53 characters of salt and hash. */
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[^\s@"<>()[\]\\,;:]+\.[^\s@"<>()[\]\\,;:]+$/;
const USERNAME = /^[A-Za-z0-9_+.@-]{1,128}$/;
/** A bare id (`abc…`, prefixed `auth0|` on import) or Auth0's `provider|id` (kept as it is). */
const USER_ID = /^(?:[A-Za-z0-9_-]{1,64}\|)?[A-Za-z0-9_.@|-]{1,200}$/;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const MAX_METADATA_BYTES = 16 * 1024;

/**
 * Checks `custom_password_hash` with the login-time parser (every algorithm's options, encodings,
 * salt and key), so a hash that could never be verified is refused at import, not at login.
 */
export function validateImportedCustomHash(value: unknown): { ok: true } | { ok: false; message: string } {
  const parsed = parseCustomPasswordHash(value);
  return parsed.ok ? { ok: true } : { ok: false, message: parsed.message };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const STRING_FIELDS: Record<string, { max: number; pattern?: RegExp; format?: string }> = {
  email: { max: 254, format: 'email' },
  user_id: { max: 255, pattern: USER_ID },
  username: { max: 128, pattern: USERNAME },
  given_name: { max: 150 },
  family_name: { max: 150 },
  name: { max: 300 },
  nickname: { max: 300 },
  picture: { max: 2048, format: 'uri' },
  phone_number: { max: 16, pattern: E164 },
  password_hash: { max: 128 },
};
const BOOLEAN_FIELDS = ['email_verified', 'blocked', 'phone_verified'];
const OBJECT_FIELDS = ['app_metadata', 'user_metadata', 'custom_password_hash'];
/** Accepted by Auth0's schema, not imported by this service (MFA enrolments are not migrated). */
const IGNORED_FIELDS = ['mfa_factors'];
const KNOWN = new Set([...Object.keys(STRING_FIELDS), ...BOOLEAN_FIELDS, ...OBJECT_FIELDS, ...IGNORED_FIELDS]);

function checkString(field: string, value: string, errors: ImportError[]): void {
  const rule = STRING_FIELDS[field];
  if (value.length === 0 || value.length > rule.max) {
    errors.push({ code: value.length === 0 ? 'MIN_LENGTH' : 'MAX_LENGTH', message: `String length out of range (1 to ${rule.max})`, path: field });
    return;
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    errors.push({ code: 'PATTERN', message: 'Control characters are not allowed', path: field });
    return;
  }
  if (rule.format === 'email' && !EMAIL.test(value)) {
    errors.push({ code: 'INVALID_FORMAT', message: `Object didn't pass validation for format email: ${value.slice(0, 254)}`, path: field });
  }
  if (rule.format === 'uri') {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok) errors.push({ code: 'INVALID_FORMAT', message: "Object didn't pass validation for format uri", path: field });
  }
  if (field === 'password_hash' && !BCRYPT_HASH.test(value)) {
    // Never echo the hash.
    errors.push({ code: 'INVALID_FORMAT', message: 'password_hash must be a bcrypt hash ($2a$, $2b$ or $2y$)', path: field });
  } else if (rule.pattern && !rule.pattern.test(value)) {
    errors.push({ code: 'PATTERN', message: `String does not match pattern ${rule.pattern.source}`, path: field });
  }
}

/** Checks one user of the file; answers the user or every error found. */
export function validateImportedUser(raw: unknown): { ok: true; user: ImportedUser } | { ok: false; errors: ImportError[] } {
  if (!isObject(raw)) {
    return { ok: false, errors: [{ code: 'INVALID_TYPE', message: `Expected type object but found type ${typeName(raw)}`, path: '' }] };
  }
  const errors: ImportError[] = [];
  const extra = Object.keys(raw).filter((k) => !KNOWN.has(k));
  if (extra.length) errors.push({ code: 'OBJECT_ADDITIONAL_PROPERTIES', message: `Additional properties not allowed: ${extra.join(',')}`, path: '' });
  if (raw.email === undefined) errors.push({ code: 'OBJECT_MISSING_REQUIRED_PROPERTY', message: 'Missing required property: email', path: '' });

  for (const field of Object.keys(STRING_FIELDS)) {
    const v = raw[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') errors.push({ code: 'INVALID_TYPE', message: `Expected type string but found type ${typeName(v)}`, path: field });
    else checkString(field, v, errors);
  }
  for (const field of BOOLEAN_FIELDS) {
    const v = raw[field];
    if (v !== undefined && typeof v !== 'boolean') errors.push({ code: 'INVALID_TYPE', message: `Expected type boolean but found type ${typeName(v)}`, path: field });
  }
  for (const field of OBJECT_FIELDS) {
    const v = raw[field];
    if (v === undefined) continue;
    if (!isObject(v)) {
      errors.push({ code: 'INVALID_TYPE', message: `Expected type object but found type ${typeName(v)}`, path: field });
      continue;
    }
    if (field !== 'custom_password_hash' && Buffer.byteLength(JSON.stringify(v)) > MAX_METADATA_BYTES) {
      errors.push({ code: 'MAX_LENGTH', message: `${field} is larger than ${MAX_METADATA_BYTES} bytes`, path: field });
    }
  }
  if (raw.mfa_factors !== undefined && !Array.isArray(raw.mfa_factors)) {
    errors.push({ code: 'INVALID_TYPE', message: `Expected type array but found type ${typeName(raw.mfa_factors)}`, path: 'mfa_factors' });
  }
  if (isObject(raw.app_metadata)) {
    const reserved = Object.keys(raw.app_metadata).filter((k) => (RESERVED_APP_METADATA_KEYS as readonly string[]).includes(k));
    for (const key of reserved) {
      errors.push({ code: 'INVALID_BODY', message: `app_metadata.${key} is a reserved property and cannot be set`, path: `app_metadata.${key}` });
    }
  }
  if (raw.password_hash !== undefined && raw.custom_password_hash !== undefined) {
    errors.push({ code: 'CONFLICT', message: 'Only one of password_hash and custom_password_hash may be given', path: 'custom_password_hash' });
  }
  if (raw.custom_password_hash !== undefined && isObject(raw.custom_password_hash)) {
    const checked = validateImportedCustomHash(raw.custom_password_hash);
    if (!checked.ok) errors.push({ code: 'INVALID_FORMAT', message: checked.message, path: 'custom_password_hash' });
  }
  if (errors.length) return { ok: false, errors };
  const { mfa_factors: _m, phone_verified: _p, ...user } = raw;
  return { ok: true, user: user as unknown as ImportedUser };
}

/** The user as shown in the job's errors: without any password hash. */
export function userForErrorReport(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  const { password_hash: _h, custom_password_hash: _c, ...rest } = raw;
  return rest;
}
