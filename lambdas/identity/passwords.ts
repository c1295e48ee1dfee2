import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** bcrypt reads at most 72 bytes of a password: past them, any tail would match. */
export const BCRYPT_MAX_BYTES = 72;
/**
 * Version marker of hashes of longer passwords: bcrypt of the base64 SHA-256 of the password
 * (44 ASCII bytes), so every byte counts. Plain bcrypt hashes (`$2a$`/`$2b$`) stay as they are.
 */
const PREHASHED = '$sha256-bcrypt$';

const prehash = (password: string) => createHash('sha256').update(password, 'utf8').digest('base64');

export const passwordBytes = (password: string) => Buffer.byteLength(password, 'utf8');

/** bcrypt hashing. bcryptjs is pure JS, so it runs unchanged in Lambda on any architecture. */
export async function hashPassword(password: string, cost: number): Promise<string> {
  if (passwordBytes(password) <= BCRYPT_MAX_BYTES) return bcrypt.hash(password, cost);
  return PREHASHED + (await bcrypt.hash(prehash(password), cost));
}

/**
 * Compares a password as strictly as it was set: a pre-hashed hash compares every byte; a plain
 * bcrypt hash can only vouch for 72 bytes, so a longer password never matches it (it is still
 * compared, to take the same time).
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (hash.startsWith(PREHASHED)) return bcrypt.compare(prehash(password), hash.slice(PREHASHED.length));
  const matches = await bcrypt.compare(password, hash);
  return matches && passwordBytes(password) <= BCRYPT_MAX_BYTES;
}

const dummyHashes = new Map<number, Promise<string>>();

/**
 * A hash to compare against when the identifier is unknown, so an unknown user takes about as
 * long as a wrong password (no user enumeration by timing).
 */
export function dummyHash(cost: number): Promise<string> {
  let h = dummyHashes.get(cost);
  if (!h) {
    h = bcrypt.hash('dummy-password-for-constant-time', cost);
    dummyHashes.set(cost, h);
  }
  return h;
}
