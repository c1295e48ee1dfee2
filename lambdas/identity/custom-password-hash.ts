import { createHash, createHmac, getHashes, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { argon2d, argon2i, argon2id, createHMAC, createMD4, md4 } from 'hash-wasm';
import { verifyPassword } from './passwords.js';

/**
 * Auth0's `custom_password_hash` (bulk user import): a password hash made by another system,
 * kept verbatim and checked at the user's first login, after which a bcrypt hash replaces it.
 * Algorithms and options follow Auth0's import schema; node:crypto computes md5, sha*, hmac,
 * pbkdf2 and scrypt; hash-wasm (WebAssembly, no native build) computes argon2 and md4, which
 * OpenSSL 3 no longer offers by default.
 */
export const CUSTOM_HASH_ALGORITHMS = ['argon2', 'bcrypt', 'hmac', 'ldap', 'md4', 'md5', 'sha1', 'sha256', 'sha512', 'pbkdf2', 'scrypt'] as const;
export type CustomHashAlgorithm = (typeof CUSTOM_HASH_ALGORITHMS)[number];

const ENCODINGS = ['base64', 'hex', 'utf8'] as const;
type Encoding = (typeof ENCODINGS)[number];
/** How the source system turned the password into bytes (Node's Buffer encodings, as Auth0 lists them). */
const PASSWORD_ENCODINGS = ['ascii', 'utf8', 'utf16le', 'ucs2', 'latin1', 'binary'] as const;
type PasswordEncoding = (typeof PASSWORD_ENCODINGS)[number];
/** Digests of `hmac` (hash.digest) and of `pbkdf2-<digest>`. */
const DIGESTS = ['md4', 'md5', 'ripemd160', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
type Digest = (typeof DIGESTS)[number];

/** Limits on work factors, so one imported hash cannot make each login of its user a denial of service. */
export const CUSTOM_HASH_LIMITS = {
  argon2MemoryKiB: 256 * 1024,
  argon2Passes: 32,
  argon2Parallelism: 16,
  pbkdf2Iterations: 5_000_000,
  scryptMemoryBytes: 256 * 1024 * 1024,
  /** bcrypt cost (log2 rounds). */
  bcryptCost: 15,
} as const;

export interface CustomPasswordHash {
  algorithm: CustomHashAlgorithm;
  hash: { value: string; encoding?: Encoding; digest?: Digest; key?: { value: string; encoding?: Encoding } };
  salt?: { value: string; encoding?: Encoding; position?: 'prefix' | 'suffix' };
  password?: { encoding?: PasswordEncoding };
  /** scrypt: derived key length in bytes (default: the length of the hash). */
  keylen?: number;
  /** scrypt: N (default 16384). */
  cost?: number;
  /** scrypt: r (default 8). */
  blockSize?: number;
  /** scrypt: p (default 1). */
  parallelization?: number;
}

export type ParseResult = { ok: true; hash: CustomPasswordHash } | { ok: false; message: string };

class Invalid extends Error {}
const fail = (path: string, message: string): never => {
  throw new Invalid(`Error in custom_password_hash${path ? `.${path}` : ''} property - ${message}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const oneOf = <T extends string>(values: readonly T[], v: unknown, path: string): T =>
  typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(path, `No enum match for: ${JSON.stringify(v)}; expected one of ${values.join(', ')}`);
const onlyKeys = (o: Record<string, unknown>, allowed: readonly string[], path: string) => {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(path, `Additional properties not allowed: ${k}`);
};
const objectAt = (v: unknown, path: string): Record<string, unknown> => (isObject(v) ? v : fail(path, `Expected type object but found type ${Array.isArray(v) ? 'array' : typeof v}`));
const stringAt = (v: unknown, path: string, max = 2048): string => {
  if (typeof v !== 'string') return fail(path, `Expected type string but found type ${typeof v}`);
  if (v.length === 0) return fail(path, 'String is too short (0 chars), minimum 1');
  if (v.length > max) return fail(path, `String is too long (${v.length} chars), maximum ${max}`);
  return v;
};
const intAt = (v: unknown, path: string, min: number, max: number): number =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : fail(path, `Expected an integer from ${min} to ${max}`);

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
/** PHC strings carry salt and hash in standard base64 without padding ("B64"). */
const B64 = /^[A-Za-z0-9+/]+$/;

function bytesOf(value: string, encoding: Encoding, path: string): Buffer {
  if (encoding === 'hex' && !HEX.test(value)) fail(path, 'Expected a hex string');
  if (encoding === 'base64' && !BASE64.test(value)) fail(path, 'Expected a base64 string');
  return Buffer.from(value, encoding);
}

interface Argon2Params { variant: 'argon2i' | 'argon2d' | 'argon2id'; m: number; t: number; p: number; salt: Buffer; hash: Buffer }
interface Pbkdf2Params { digest: Digest; iterations: number; keylen: number; salt: Buffer; hash: Buffer }

/** `$argon2id$v=19$m=65536,t=3,p=4$<B64 salt>$<B64 hash>` (version 19, the only one in use). */
function parseArgon2(value: string): Argon2Params {
  const m = /^\$(argon2id|argon2i|argon2d)\$(?:v=(\d+)\$)?m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(value);
  if (!m) return fail('hash.value', 'Expected an argon2 PHC string: $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>');
  if (m[2] !== undefined && m[2] !== '19') fail('hash.value', 'Only argon2 version 19 (0x13) is supported');
  const p = intAt(Number(m[5]), 'hash.value (p)', 1, CUSTOM_HASH_LIMITS.argon2Parallelism);
  const params: Argon2Params = {
    variant: m[1] as Argon2Params['variant'],
    m: intAt(Number(m[3]), 'hash.value (m)', 8 * p, CUSTOM_HASH_LIMITS.argon2MemoryKiB),
    t: intAt(Number(m[4]), 'hash.value (t)', 1, CUSTOM_HASH_LIMITS.argon2Passes),
    p,
    salt: Buffer.from(m[6], 'base64'),
    hash: Buffer.from(m[7], 'base64'),
  };
  if (params.salt.length < 8) fail('hash.value', 'The argon2 salt must be at least 8 bytes');
  if (params.hash.length < 4) fail('hash.value', 'The argon2 hash must be at least 4 bytes');
  return params;
}

/** `$pbkdf2-sha256$i=100000,l=32$<B64 salt>$<B64 hash>`; `$pbkdf2$` (no digest) is SHA-1, as passlib writes it. */
function parsePbkdf2(value: string): Pbkdf2Params {
  const m = /^\$pbkdf2(?:-([a-z0-9]+))?\$([^$]+)\$([^$]+)\$([^$]+)$/.exec(value);
  if (!m) return fail('hash.value', 'Expected a pbkdf2 PHC string: $pbkdf2-<digest>$i=<iterations>,l=<key length>$<salt>$<hash>');
  const digest = oneOf(DIGESTS, m[1] ?? 'sha1', 'hash.value (digest)');
  const params = new Map(m[2].split(',').map((kv) => kv.split('=') as [string, string]));
  for (const k of params.keys()) if (k !== 'i' && k !== 'l') fail('hash.value', `Unknown pbkdf2 parameter: ${k}`);
  if (!params.has('i') || !params.has('l')) fail('hash.value', 'The pbkdf2 PHC string needs both i (iterations) and l (key length)');
  if (!B64.test(m[3]) || !B64.test(m[4].replace(/=+$/, ''))) fail('hash.value', 'Expected salt and hash in B64 (base64 without padding)');
  const out: Pbkdf2Params = {
    digest,
    iterations: intAt(Number(params.get('i')), 'hash.value (i)', 1, CUSTOM_HASH_LIMITS.pbkdf2Iterations),
    keylen: intAt(Number(params.get('l')), 'hash.value (l)', 1, 1024),
    salt: Buffer.from(m[3], 'base64'),
    hash: Buffer.from(m[4], 'base64'),
  };
  if (out.hash.length !== out.keylen) fail('hash.value', `The pbkdf2 hash is ${out.hash.length} bytes; l says ${out.keylen}`);
  return out;
}

/** RFC 2307 userPassword values: `{SHA}`, `{SSHA}`, `{MD5}`, `{SMD5}`, and their SHA-2 forms (salt after the digest). */
const LDAP_SCHEMES: Record<string, { digest: 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512'; salted: boolean; size: number }> = {
  MD5: { digest: 'md5', salted: false, size: 16 },
  SMD5: { digest: 'md5', salted: true, size: 16 },
  SHA: { digest: 'sha1', salted: false, size: 20 },
  SSHA: { digest: 'sha1', salted: true, size: 20 },
  SHA256: { digest: 'sha256', salted: false, size: 32 },
  SSHA256: { digest: 'sha256', salted: true, size: 32 },
  SHA384: { digest: 'sha384', salted: false, size: 48 },
  SSHA384: { digest: 'sha384', salted: true, size: 48 },
  SHA512: { digest: 'sha512', salted: false, size: 64 },
  SSHA512: { digest: 'sha512', salted: true, size: 64 },
};

function parseLdap(value: string) {
  const m = /^\{([A-Za-z0-9]+)\}(.+)$/.exec(value);
  const scheme = m ? LDAP_SCHEMES[m[1].toUpperCase()] : undefined;
  if (!m || !scheme) return fail('hash.value', `Expected an RFC 2307 value {SCHEME}<base64>, SCHEME one of ${Object.keys(LDAP_SCHEMES).join(', ')}`);
  if (!BASE64.test(m[2])) fail('hash.value', 'Expected base64 after the {SCHEME}');
  const raw = Buffer.from(m[2], 'base64');
  if (scheme.salted ? raw.length <= scheme.size : raw.length !== scheme.size) fail('hash.value', `The {${m[1]}} value has a wrong length`);
  return { ...scheme, hash: raw.subarray(0, scheme.size), salt: raw.subarray(scheme.size) };
}

function scryptParams(h: CustomPasswordHash, hashBytes: number) {
  const N = h.cost ?? 16384;
  const r = h.blockSize ?? 8;
  const p = h.parallelization ?? 1;
  return { N, r, p, keylen: h.keylen ?? hashBytes, maxmem: 128 * N * r * p + 1024 * 1024 };
}

/**
 * Validates an imported `custom_password_hash` by Auth0's rules: the algorithm's required and
 * forbidden parts (argon2, bcrypt, ldap and pbkdf2 carry their salt in `hash.value`, which must be
 * utf8; the digests take hex or base64 and an optional salt with a position; hmac needs
 * `hash.digest` and `hash.key`; scrypt needs a salt and takes keylen/cost/blockSize/parallelization).
 * Answers the value as it is to be stored, or a message in the style of Auth0's import errors.
 */
export function parseCustomPasswordHash(value: unknown): ParseResult {
  try {
    return { ok: true, hash: validate(value) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, message: err.message };
    throw err;
  }
}

function validate(value: unknown): CustomPasswordHash {
  const o = objectAt(value, '');
  onlyKeys(o, ['algorithm', 'hash', 'salt', 'password', 'keylen', 'cost', 'blockSize', 'parallelization'], '');
  if (o.algorithm === undefined) fail('', 'Missing required property: algorithm');
  if (o.hash === undefined) fail('', 'Missing required property: hash');
  const algorithm = oneOf(CUSTOM_HASH_ALGORITHMS, o.algorithm, 'algorithm');
  const h = objectAt(o.hash, 'hash');
  onlyKeys(h, ['value', 'encoding', 'digest', 'key'], 'hash');
  if (h.value === undefined) fail('hash', 'Missing required property: value');
  const out: CustomPasswordHash = { algorithm, hash: { value: stringAt(h.value, 'hash.value') } };
  if (h.encoding !== undefined) out.hash.encoding = oneOf(ENCODINGS, h.encoding, 'hash.encoding');

  if (o.salt !== undefined) {
    const s = objectAt(o.salt, 'salt');
    onlyKeys(s, ['value', 'encoding', 'position'], 'salt');
    if (s.value === undefined) fail('salt', 'Missing required property: value');
    out.salt = { value: stringAt(s.value, 'salt.value', 1024) };
    if (s.encoding !== undefined) out.salt.encoding = oneOf(ENCODINGS, s.encoding, 'salt.encoding');
    if (s.position !== undefined) out.salt.position = oneOf(['prefix', 'suffix'] as const, s.position, 'salt.position');
    bytesOf(out.salt.value, out.salt.encoding ?? 'utf8', 'salt.value');
  }
  if (o.password !== undefined) {
    const p = objectAt(o.password, 'password');
    onlyKeys(p, ['encoding'], 'password');
    if (p.encoding !== undefined) out.password = { encoding: oneOf(PASSWORD_ENCODINGS, p.encoding, 'password.encoding') };
    else out.password = {};
  }
  const scryptKeys = ['keylen', 'cost', 'blockSize', 'parallelization'] as const;
  if (algorithm !== 'scrypt') for (const k of scryptKeys) if (o[k] !== undefined) fail(k, `Only allowed when algorithm is scrypt`);
  if (algorithm !== 'hmac') {
    if (h.digest !== undefined) fail('hash.digest', 'Only allowed when algorithm is hmac');
    if (h.key !== undefined) fail('hash.key', 'Only allowed when algorithm is hmac');
  }

  const encoding = out.hash.encoding;
  const selfSalted = algorithm === 'argon2' || algorithm === 'bcrypt' || algorithm === 'ldap' || algorithm === 'pbkdf2';
  if (selfSalted) {
    if (encoding !== undefined && encoding !== 'utf8') fail('hash.encoding', `Must be utf8 when algorithm is ${algorithm}`);
    if (out.salt) fail('salt', `Not allowed when algorithm is ${algorithm}: the salt is part of hash.value`);
    if (out.password?.encoding && algorithm === 'bcrypt' && out.password.encoding !== 'utf8') fail('password.encoding', 'Must be utf8 when algorithm is bcrypt');
    if (algorithm === 'argon2') parseArgon2(out.hash.value);
    if (algorithm === 'pbkdf2') parsePbkdf2(out.hash.value);
    if (algorithm === 'ldap') parseLdap(out.hash.value);
    if (algorithm === 'bcrypt') {
      const m = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(out.hash.value);
      if (!m) fail('hash.value', 'Expected a bcrypt hash in modular crypt format ($2a$, $2b$ or $2y$)');
      intAt(Number(m![1]), 'hash.value (cost)', 4, CUSTOM_HASH_LIMITS.bcryptCost);
    }
    return out;
  }

  // md4, md5, sha1, sha256, sha512, hmac, scrypt: a raw digest in hex or base64.
  if (encoding === undefined) fail('hash', 'Missing required property: encoding');
  if (encoding === 'utf8') fail('hash.encoding', `Must be hex or base64 when algorithm is ${algorithm}`);
  const digestBytes = bytesOf(out.hash.value, encoding!, 'hash.value');
  if (out.salt && algorithm !== 'scrypt' && out.salt.position === undefined) fail('salt', 'Missing required property: position');
  if (algorithm === 'hmac') {
    if (h.digest === undefined) fail('hash', 'Missing required property: digest');
    out.hash.digest = oneOf(DIGESTS, h.digest, 'hash.digest');
    if (h.key === undefined) fail('hash', 'Missing required property: key');
    const k = objectAt(h.key, 'hash.key');
    onlyKeys(k, ['value', 'encoding'], 'hash.key');
    if (k.value === undefined) fail('hash.key', 'Missing required property: value');
    out.hash.key = { value: stringAt(k.value, 'hash.key.value', 1024) };
    if (k.encoding !== undefined) out.hash.key.encoding = oneOf(ENCODINGS, k.encoding, 'hash.key.encoding');
    bytesOf(out.hash.key.value, out.hash.key.encoding ?? 'utf8', 'hash.key.value');
  }
  if (algorithm === 'scrypt') {
    if (!out.salt) fail('', 'Missing required property: salt (scrypt)');
    if (out.salt!.position !== undefined) fail('salt.position', 'Not allowed when algorithm is scrypt');
    if (o.keylen !== undefined) out.keylen = intAt(o.keylen, 'keylen', 1, 1024);
    if (o.cost !== undefined) out.cost = intAt(o.cost, 'cost', 2, 2 ** 24);
    if (o.blockSize !== undefined) out.blockSize = intAt(o.blockSize, 'blockSize', 1, 64);
    if (o.parallelization !== undefined) out.parallelization = intAt(o.parallelization, 'parallelization', 1, 16);
    const { N, r, p, keylen } = scryptParams(out, digestBytes.length);
    if ((N & (N - 1)) !== 0) fail('cost', 'Must be a power of 2');
    if (128 * N * r * p > CUSTOM_HASH_LIMITS.scryptMemoryBytes) fail('cost', 'cost × blockSize × parallelization needs more memory than allowed');
    if (keylen !== digestBytes.length) fail('keylen', `The hash is ${digestBytes.length} bytes; keylen says ${keylen}`);
  }
  return out;
}

const nodeDigests = new Set(getHashes());
/** md4 is gone from OpenSSL 3's default provider: hash-wasm computes it. */
const digestOf = async (algorithm: Digest, data: Buffer): Promise<Buffer> =>
  algorithm === 'md4' ? Buffer.from(await md4(data), 'hex') : createHash(algorithm).update(data).digest();

const salted = (h: CustomPasswordHash, password: Buffer): Buffer => {
  if (!h.salt) return password;
  const salt = Buffer.from(h.salt.value, h.salt.encoding ?? 'utf8');
  return h.salt.position === 'suffix' ? Buffer.concat([password, salt]) : Buffer.concat([salt, password]);
};

const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/**
 * Computes the imported hash of `password` and compares it in constant time. Never throws for
 * a wrong password; a hash that does not parse (it was validated at import) never matches.
 */
export async function verifyCustomPasswordHash(hash: CustomPasswordHash, password: string): Promise<boolean> {
  let h: CustomPasswordHash;
  try {
    h = validate(hash);
  } catch {
    return false;
  }
  const pw = Buffer.from(password, h.password?.encoding ?? 'utf8');
  switch (h.algorithm) {
    case 'bcrypt':
      return verifyPassword(password, h.hash.value.replace(/^\$2y\$/, '$2b$'));
    case 'argon2': {
      const a = parseArgon2(h.hash.value);
      const fn = a.variant === 'argon2id' ? argon2id : a.variant === 'argon2i' ? argon2i : argon2d;
      const out = await fn({ password: pw, salt: a.salt, iterations: a.t, memorySize: a.m, parallelism: a.p, hashLength: a.hash.length, outputType: 'binary' });
      return same(Buffer.from(out), a.hash);
    }
    case 'pbkdf2': {
      const k = parsePbkdf2(h.hash.value);
      const out = await new Promise<Buffer>((resolve, reject) => pbkdf2(pw, k.salt, k.iterations, k.keylen, k.digest, (e, d) => (e ? reject(e) : resolve(d))));
      return same(out, k.hash);
    }
    case 'ldap': {
      const l = parseLdap(h.hash.value);
      return same(createHash(l.digest).update(Buffer.concat([pw, l.salt])).digest(), l.hash);
    }
    case 'scrypt': {
      const expected = Buffer.from(h.hash.value, h.hash.encoding as Encoding);
      const salt = Buffer.from(h.salt!.value, h.salt!.encoding ?? 'utf8');
      const { N, r, p, keylen, maxmem } = scryptParams(h, expected.length);
      const out = await new Promise<Buffer>((resolve, reject) => scrypt(pw, salt, keylen, { N, r, p, maxmem }, (e, d) => (e ? reject(e) : resolve(d))));
      return same(out, expected);
    }
    case 'hmac': {
      const expected = Buffer.from(h.hash.value, h.hash.encoding as Encoding);
      const key = Buffer.from(h.hash.key!.value, h.hash.key!.encoding ?? 'utf8');
      return same(await hmacOf(h.hash.digest!, key, salted(h, pw)), expected);
    }
    default: {
      const expected = Buffer.from(h.hash.value, h.hash.encoding as Encoding);
      return same(await digestOf(h.algorithm as Digest, salted(h, pw)), expected);
    }
  }
}

/** HMAC over a digest; md4 (absent from OpenSSL 3's default provider) by RFC 2104 over hash-wasm's md4. */
async function hmacOf(digest: Digest, key: Buffer, data: Buffer): Promise<Buffer> {
  if (digest !== 'md4' && nodeDigests.has(digest)) return createHmac(digest, key).update(data).digest();
  const mac = await createHMAC(createMD4(), key);
  mac.init();
  mac.update(data);
  return Buffer.from(mac.digest('binary'));
}
