import type { ConnectionRecord } from '../store/records.js';
import { COMMON_PASSWORDS } from './common-passwords.js';

/** Auth0's password strength levels (connection option `passwordPolicy`, or `password_policy`). */
export type PasswordStrength = 'none' | 'low' | 'fair' | 'good' | 'excellent';

export interface PasswordPolicy {
  strength: PasswordStrength;
  minLength: number;
  noPersonalInfo: boolean;
  /** Auth0's `password_dictionary`: common passwords and the connection's own words refused (whole password, any case). */
  dictionary?: ReadonlySet<string>;
}

let common: ReadonlySet<string> | undefined;
/** The shipped list of common passwords, split on first use. */
const commonPasswords = (): ReadonlySet<string> => (common ??= new Set(COMMON_PASSWORDS.split('\n')));
export const NOT_IN_DICTIONARY = 'Not a common password or a word of the dictionary';

const LEVELS: Record<PasswordStrength, { minLength: number; classes: number; noRepeats: boolean }> = {
  none: { minLength: 1, classes: 0, noRepeats: false },
  low: { minLength: 6, classes: 0, noRepeats: false },
  fair: { minLength: 8, classes: -1, noRepeats: false },
  good: { minLength: 8, classes: 3, noRepeats: false },
  excellent: { minLength: 10, classes: 3, noRepeats: true },
};

/** The policy of a database connection (`passwordPolicy` or `password_policy`; unset reads as `none`). */
export function passwordPolicyOf(connection: ConnectionRecord): PasswordPolicy {
  const o = connection.options as Record<string, unknown>;
  const raw = String(o.passwordPolicy ?? o.password_policy ?? 'none') as PasswordStrength;
  const strength: PasswordStrength = raw in LEVELS ? raw : 'none';
  const complexity = o.password_complexity_options as { min_length?: unknown } | undefined;
  const min = Number(complexity?.min_length);
  const minLength = Number.isInteger(min) && min >= 1 && min <= 128 ? Math.max(min, 1) : LEVELS[strength].minLength;
  const personal = o.password_no_personal_info as { enable?: unknown } | boolean | undefined;
  const noPersonalInfo = typeof personal === 'object' ? personal?.enable === true : personal === true;
  const dictionaryOption = o.password_dictionary as { enable?: unknown; dictionary?: unknown } | undefined;
  if (dictionaryOption?.enable !== true) return { strength, minLength, noPersonalInfo };
  const custom = Array.isArray(dictionaryOption.dictionary) ? dictionaryOption.dictionary.filter((w): w is string => typeof w === 'string' && w !== '') : [];
  const dictionary = custom.length ? new Set([...commonPasswords(), ...custom.map((w) => w.toLowerCase())]) : commonPasswords();
  return { strength, minLength, noPersonalInfo, dictionary };
}

const THREE_OF_FOUR =
  'At least 3 of the following 4 types of characters: lower case letters (a-z), upper case letters (A-Z), numbers (i.e. 0-9), special characters (e.g. !@#$%^&*)';
const NO_REPEATS = 'No more than 2 identical characters in a row (e.g., "aaa" not allowed)';

/** The rules as Auth0 words them, for the reset page and `invalid_password` errors. */
export function describePolicy(p: PasswordPolicy): string[] {
  const level = LEVELS[p.strength];
  const rules = [`At least ${p.minLength} characters in length`];
  if (level.classes === -1) rules.push('Lower case letters (a-z), upper case letters (A-Z) and numbers (0-9)');
  if (level.classes === 3)
    rules.push(THREE_OF_FOUR);
  if (level.noRepeats) rules.push(NO_REPEATS);
  if (p.noPersonalInfo) rules.push('Not contain your e-mail address, username or name');
  if (p.dictionary) rules.push(NOT_IN_DICTIONARY);
  return rules;
}

/** The rules a password breaks (empty: accepted). Personal info: the user's email local part, username, names. */
export function checkPassword(
  p: PasswordPolicy,
  password: string,
  personal: { email?: string; username?: string; name?: string; given_name?: string; family_name?: string } = {},
): string[] {
  const level = LEVELS[p.strength];
  const broken: string[] = [];
  if ([...password].length < p.minLength) broken.push(`At least ${p.minLength} characters in length`);
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].map((r) => r.test(password));
  if (level.classes === -1 && !(classes[0] && classes[1] && classes[2]))
    broken.push('Lower case letters (a-z), upper case letters (A-Z) and numbers (0-9)');
  if (level.classes === 3 && classes.filter(Boolean).length < 3) broken.push(THREE_OF_FOUR);
  if (level.noRepeats && /(.)\1\1/.test(password)) broken.push(NO_REPEATS);
  if (p.noPersonalInfo) {
    const lower = password.toLowerCase();
    const words = [personal.email?.split('@')[0], personal.email, personal.username, personal.name, personal.given_name, personal.family_name]
      .filter((w): w is string => !!w && w.length >= 3)
      .map((w) => w.toLowerCase());
    if (words.some((w) => lower.includes(w))) broken.push('Not contain your e-mail address, username or name');
  }
  if (p.dictionary?.has(password.toLowerCase())) broken.push(NOT_IN_DICTIONARY);
  return broken;
}
