/**
 * Random: the only source of randomness in Shoal.
 *
 * `seededRandom(seed)` is a small, fast, deterministic generator (sfc32, Chris Doty-Humphrey's
 * "small fast chaotic" PRNG from PractRand, seeded through splitmix32) used by the simulator and
 * by tests: the same seed gives the same sequence on every machine. `nodeRandom()` seeds the
 * same generator from the OS for numbers and shuffles, but takes `bytes()` and `uuid()` from the
 * OS CSPRNG, because those feed keys, nonces and tokens.
 */
import { randomFillSync } from 'node:crypto';

export interface Random {
  /** A float in [0, 1). */
  float(): number;
  /** An integer in [0, maxExclusive); `maxExclusive` must be a positive safe integer. */
  int(maxExclusive: number): number;
  /** `n` random bytes (cryptographically secure in the Node implementation). */
  bytes(n: number): Uint8Array;
  /** A random RFC 4122 version 4 UUID string. */
  uuid(): string;
  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** An independent generator derived from this one (deterministic when this one is). */
  fork(): Random;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** sfc32 over four 32-bit words; returns a uint32 per call. */
function sfc32(seed: number): () => number {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

function formatUuid(b: Uint8Array): string {
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Buffer.from(b.buffer, b.byteOffset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function makeRandom(nextU32: () => number, bytes: (n: number) => Uint8Array): Random {
  const float = (): number => {
    // 53 random bits, like Math.random's precision.
    const hi = nextU32() >>> 5;
    const lo = nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  };
  const random: Random = {
    float,
    int(maxExclusive) {
      if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
        throw new RangeError(`Random.int: maxExclusive must be a positive safe integer, got ${maxExclusive}`);
      }
      return Math.floor(float() * maxExclusive);
    },
    bytes,
    uuid: () => formatUuid(bytes(16)),
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(float() * (i + 1));
        const tmp = items[i] as (typeof items)[number];
        items[i] = items[j] as (typeof items)[number];
        items[j] = tmp;
      }
      return items;
    },
    chance: (p) => float() < p,
    fork: () => seededRandom(nextU32()),
  };
  return random;
}

/** A deterministic generator: the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): Random {
  const next = sfc32(seed);
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let w = next();
      for (let k = 0; k < 4 && i + k < n; k++) {
        out[i + k] = w & 0xff;
        w >>>= 8;
      }
    }
    return out;
  };
  return makeRandom(next, bytes);
}

/** The production generator: OS-seeded numbers, OS CSPRNG bytes. */
export function nodeRandom(): Random {
  const seed = new Uint32Array(1);
  randomFillSync(seed);
  const next = sfc32(seed[0] ?? 0);
  return makeRandom(next, (n) => {
    const out = new Uint8Array(n);
    randomFillSync(out);
    return out;
  });
}
