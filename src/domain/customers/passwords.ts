import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// scrypt with N=2^15, r=8, p=1 (OWASP's minimum for scrypt), a 16-byte salt and a 32-byte key,
// stored as `scrypt$N$r$p$<salt base64>$<hash base64>` so the parameters can be raised later
// without breaking stored hashes.

export const PASSWORD_MIN_LENGTH = 8;
/** scrypt takes any length, but a megabyte "password" is only a way to burn our CPU. */
export const PASSWORD_MAX_LENGTH = 256;

const COST = 2 ** 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
// scrypt needs 128 × N × r bytes (32 MiB here); Node's default ceiling is exactly 32 MiB, which
// the bookkeeping overhead exceeds.
const MAX_MEMORY = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  // The asynchronous form runs on libuv's thread pool: ~100 ms of hashing must not stall requests.
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** The storable hash of a password: `scrypt$32768$8$1$<salt>$<hash>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { N: COST, r: BLOCK_SIZE, p: PARALLELISM, maxmem: MAX_MEMORY });
  return ['scrypt', COST, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

const STORED = /^scrypt\$(\d{1,7})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/**
 * Whether `password` matches a hash made by {@link hashPassword} (with whatever parameters it
 * records). A malformed or unsupported stored value never matches; the comparison is constant-time.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = STORED.exec(stored);
  if (!match) return false;
  const [, n, r, p, saltText = '', hashText = ''] = match;
  const expected = Buffer.from(hashText, 'base64');
  if (expected.length < 16) return false;
  try {
    const key = await derive(password, Buffer.from(saltText, 'base64'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: MAX_MEMORY,
    });
    return timingSafeEqual(key, expected);
  } catch {
    // Parameters scrypt refuses (N not a power of two, memory over the ceiling) cannot match.
    return false;
  }
}
