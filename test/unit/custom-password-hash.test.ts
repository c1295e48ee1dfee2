import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCustomPasswordHash, verifyCustomPasswordHash, type CustomPasswordHash } from '../../lambdas/identity/custom-password-hash.js';

/** Made by openssl, the reference argon2 CLI and Python's hashlib (custom-password-hashes.gen.py), never by the service. */
const valid = JSON.parse(readFileSync(new URL('../fixtures/custom-password-hashes.json', import.meta.url), 'utf8')) as {
  name: string;
  password: string;
  custom_password_hash: CustomPasswordHash;
}[];
const invalid = JSON.parse(readFileSync(new URL('../fixtures/custom-password-hashes-invalid.json', import.meta.url), 'utf8')) as {
  name: string;
  custom_password_hash: unknown;
  error: string;
}[];

describe('imported custom password hashes', () => {
  it('the fixtures cover every algorithm of Auth0 import schema', () => {
    const algorithms = new Set(valid.map((c) => c.custom_password_hash.algorithm));
    expect([...algorithms].sort()).toEqual(['argon2', 'bcrypt', 'hmac', 'ldap', 'md4', 'md5', 'pbkdf2', 'scrypt', 'sha1', 'sha256', 'sha512']);
  });

  describe.each(valid)('$name', ({ password, custom_password_hash }) => {
    it('is accepted as it is', () => {
      expect(parseCustomPasswordHash(custom_password_hash)).toEqual({ ok: true, hash: custom_password_hash });
    });
    it('matches its password', async () => {
      expect(await verifyCustomPasswordHash(custom_password_hash, password)).toBe(true);
    });
    it('does not match another password', async () => {
      expect(await verifyCustomPasswordHash(custom_password_hash, password + 'x')).toBe(false);
      expect(await verifyCustomPasswordHash(custom_password_hash, password.slice(0, -1))).toBe(false);
    });
  });

  it.each(invalid)('refuses $name with an Auth0-style message', ({ custom_password_hash, error }) => {
    const res = parseCustomPasswordHash(custom_password_hash);
    expect(res.ok).toBe(false);
    expect(!res.ok && res.message).toContain(error);
    expect(!res.ok && res.message).toMatch(/^Error in custom_password_hash/);
  });

  it('a stored hash that no longer parses never matches (and never throws)', async () => {
    const broken = { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha256$i=1000$x$y' } } as CustomPasswordHash;
    expect(await verifyCustomPasswordHash(broken, 'anything')).toBe(false);
  });
});
