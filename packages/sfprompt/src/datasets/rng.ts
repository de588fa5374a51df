// Seeded, deterministic pseudo-random numbers (xoshiro128** seeded through splitmix32), so that a
// partition, a shuffle or a batch order is the same on every machine for the same seed.

import { DatasetArgumentError } from "./errors.js";

const TWO_POW_32 = 4294967296;

function splitmix32(state: number): [next: number, out: number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [s, (z ^ (z >>> 16)) >>> 0];
}

function checkSeed(seed: number, field: string): void {
  if (!Number.isSafeInteger(seed)) {
    throw new DatasetArgumentError(field, `seed must be a safe integer, got ${seed}`);
  }
}

/**
 * Mixes a seed with further integers (epoch, client index, purpose tag) into a new 32-bit seed, so
 * that independent streams never share a state by accident.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = 0x6a09e667;
  for (const part of [seed, ...parts]) {
    checkSeed(part, "seed");
    // Both 32-bit halves go through a full mixing round, so nearby seeds give unrelated streams.
    h = splitmix32(h ^ (part >>> 0))[1];
    h = splitmix32(h ^ (Math.floor(part / TWO_POW_32) >>> 0))[1];
  }
  return h;
}

/** A xoshiro128** generator. Not for cryptography; for reproducible experiments. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    checkSeed(seed, "seed");
    let state = deriveSeed(seed);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(state);
      state = next;
      words.push(out);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw new DatasetArgumentError("n", `must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates shuffle, in place; returns its argument. */
  shuffle<T extends { length: number; [i: number]: number }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = values[i] as number;
      values[i] = values[j] as number;
      values[j] = tmp;
    }
    return values;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
