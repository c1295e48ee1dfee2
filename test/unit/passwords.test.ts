import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../lambdas/identity/passwords.js';

/** Passwords are compared on every byte, not on bcrypt's first 72. */
describe('password hashes', () => {
  const long = `${'x'.repeat(72)}-the-tail`;

  it('a password of at most 72 bytes keeps a plain bcrypt hash', async () => {
    const hash = await hashPassword('x'.repeat(72), 4);
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    expect(await verifyPassword('x'.repeat(72), hash)).toBe(true);
  });

  it('a longer password gets the versioned pre-hash: the same 72 bytes with another tail do not match', async () => {
    const hash = await hashPassword(long, 4);
    expect(hash.startsWith('$sha256-bcrypt$')).toBe(true);
    expect(await verifyPassword(long, hash)).toBe(true);
    expect(await verifyPassword(`${'x'.repeat(72)}-another-tail`, hash)).toBe(false);
    expect(await verifyPassword('x'.repeat(72), hash)).toBe(false);
  });

  it('counts bytes, not characters: 40 × "é" (80 bytes) is pre-hashed', async () => {
    const hash = await hashPassword('é'.repeat(40), 4);
    expect(hash.startsWith('$sha256-bcrypt$')).toBe(true);
    expect(await verifyPassword(`${'é'.repeat(36)}zz`, hash)).toBe(false);
  });

  it('a plain bcrypt hash (set before, or imported) never matches a password longer than 72 bytes', async () => {
    const legacy = await bcrypt.hash(long, 4);
    expect(await bcrypt.compare(`${'x'.repeat(72)}-another-tail`, legacy)).toBe(true);
    expect(await verifyPassword(`${'x'.repeat(72)}-another-tail`, legacy)).toBe(false);
  });
});
