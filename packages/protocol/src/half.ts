// Float32 <-> IEEE half (f16) and bfloat16 bit conversions with round-to-nearest-even, on whole arrays
// so that hot loops allocate nothing per element.

let f16Table: Float32Array | undefined;

/** 65 536-entry lookup table: f16 bits -> float32 value (256 KiB, built on first use). */
function f16ToF32Table(): Float32Array {
  if (f16Table !== undefined) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 31) table[h] = mant === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  f16Table = table;
  return table;
}

/** f16 bits of the float32 with bits `u` (round to nearest even; overflow -> ±Inf, NaN stays NaN). */
export function f32BitsToF16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** bfloat16 bits of the float32 with bits `u` (round to nearest even; NaN stays a quiet NaN). */
export function f32BitsToBf16Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Writes `src` as little-endian 16-bit words (f16 or bf16) into `out` at `offset`. Returns the index of
 * the first finite value that overflowed to ±Inf, or -1.
 */
export function encodeHalfInto(
  src: Float32Array,
  out: Uint8Array,
  offset: number,
  codec: "f16" | "bf16",
): number {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const toBits = codec === "f16" ? f32BitsToF16Bits : f32BitsToBf16Bits;
  const infBits = codec === "f16" ? 0x7c00 : 0x7f80;
  let overflowAt = -1;
  for (let i = 0, o = offset; i < bits.length; i++, o += 2) {
    const u = bits[i]!;
    const h = toBits(u);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    if (overflowAt < 0 && (h & 0x7fff) === infBits && (u & 0x7f800000) !== 0x7f800000) overflowAt = i;
  }
  return overflowAt;
}

/** Decodes `count` little-endian f16 words from `src` into a new Float32Array. */
export function decodeF16(src: Uint8Array, count: number): Float32Array {
  const table = f16ToF32Table();
  const out = new Float32Array(count);
  for (let i = 0, o = 0; i < count; i++, o += 2) out[i] = table[src[o]! | (src[o + 1]! << 8)]!;
  return out;
}

/** Decodes `count` little-endian bf16 words from `src` into a new Float32Array. */
export function decodeBf16(src: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0, o = 0; i < count; i++, o += 2) outBits[i] = ((src[o]! | (src[o + 1]! << 8)) << 16) >>> 0;
  return out;
}
