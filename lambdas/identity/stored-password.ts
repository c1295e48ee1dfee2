import type { Deps } from '../deps.js';
import type { PasswordRecord } from '../store/records.js';
import { parseCustomPasswordHash, verifyCustomPasswordHash } from './custom-password-hash.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';

/** Whether `password` matches a stored password item: its bcrypt hash, else its imported custom hash. */
export async function verifyStoredPassword(password: string, stored: PasswordRecord): Promise<boolean> {
  if (stored.hash) return verifyPassword(password, stored.hash);
  if (!stored.custom_password_hash) return false;
  const parsed = parseCustomPasswordHash(stored.custom_password_hash);
  return parsed.ok && verifyCustomPasswordHash(parsed.hash, password);
}

/**
 * Checks a login's password against the user's stored password item. An imported hash that
 * matches becomes local: a custom hash is replaced by bcrypt, an imported bcrypt hash is marked
 * local (conditional writes: a reset or change written meanwhile wins; a failed write only means
 * the next login tries again). A custom hash that does not match also spends a dummy bcrypt
 * compare, so a cheap imported digest answers no faster than a bcrypt one.
 */
export async function checkStoredPassword(
  deps: Pick<Deps, 'now' | 'config' | 'sink' | 'users'>,
  tenant: string,
  userId: string,
  stored: PasswordRecord,
  password: string,
): Promise<boolean> {
  const matches = await verifyStoredPassword(password, stored);
  if (!matches) {
    if (!stored.hash) await verifyPassword(password, await dummyHash(deps.config.bcryptCost));
    return false;
  }
  const imported = stored.hash ? stored.origin === 'import' : !!stored.custom_password_hash;
  if (imported) {
    const bcrypt = stored.hash ? undefined : await hashPassword(password, deps.config.bcryptCost);
    await deps.users
      .settleImportedPassword(tenant, userId, stored, bcrypt, new Date(deps.now()).toISOString())
      .catch((err: unknown) => deps.sink.warn('imported password not settled', { error: err instanceof Error ? err.name : 'unknown' }));
  }
  return true;
}
