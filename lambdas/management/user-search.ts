import type { UserRecord } from '../store/records.js';
import { managementErrors } from './errors.js';

/** One `field:value` term of a Lucene-style user search (`value*` is a prefix). */
export interface SearchTerm {
  field: string;
  value: string;
  prefix: boolean;
}

const searchableFields = new Set([
  'email', 'user_id', 'name', 'nickname', 'username', 'given_name', 'family_name',
  'identities.connection', 'blocked', 'email_verified',
]);

const TERM = /^([a-z_.]+):(?:"((?:[^"\\]|\\.)*)"|([^\s"()]+))/i;

/**
 * Parses the subset of Auth0's user search syntax this service answers: terms
 * `field:value` / `field:"value"` joined by whitespace or `AND`. Anything else is a 400.
 */
export function parseUserSearch(q: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  let rest = q.trim();
  while (rest.length > 0) {
    const m = TERM.exec(rest);
    if (!m) throw managementErrors.invalidQuery(`'Unsupported search syntax' on property q.`);
    const field = m[1].toLowerCase();
    if (!searchableFields.has(field)) throw managementErrors.invalidQuery(`'Unsupported search field ${field}' on property q.`);
    let value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    const prefix = value.endsWith('*');
    if (prefix) value = value.slice(0, -1);
    terms.push({ field, value, prefix });
    rest = rest.slice(m[0].length).replace(/^\s+(AND\s+)?/, '');
  }
  return terms;
}

function fieldValue(user: UserRecord, field: string): string[] {
  if (field === 'identities.connection') return user.identities.map((i) => i.connection);
  const v = (user as unknown as Record<string, unknown>)[field];
  if (v === undefined || v === null) return field === 'blocked' || field === 'email_verified' ? ['false'] : [];
  return [String(v)];
}

export function matchesSearch(user: UserRecord, terms: SearchTerm[]): boolean {
  return terms.every((t) => {
    const wanted = t.value.toLowerCase();
    return fieldValue(user, t.field).some((v) => {
      const have = v.toLowerCase();
      return t.prefix ? have.startsWith(wanted) : have === wanted;
    });
  });
}

/** The exact email a search asks for, when it asks for one (served from the email claims). */
export function exactEmailOf(terms: SearchTerm[]): string | undefined {
  return terms.find((t) => t.field === 'email' && !t.prefix)?.value.toLowerCase();
}
