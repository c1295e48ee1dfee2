import bcrypt from 'bcryptjs';

/** bcrypt hashing. bcryptjs is pure JS, so it runs unchanged in Lambda on any architecture. */
export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
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
