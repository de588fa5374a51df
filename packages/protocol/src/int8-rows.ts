// int8 quantisation with one float32 scale per row (rows = last-dimension vectors): each row is
// scaled by max|x|/127, so the error per element is at most half a step, max|x_row|/254 (plus 2^-150
// where the scale is a float32 subnormal, which cannot be finer than 2^-149).

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The float32 next to the positive (or zero) float32 `x`, one step up or down. */
function nextF32(x: number, up: boolean): number {
  scratch[0] = x;
  scratchBits[0] = scratchBits[0]! + (up ? 1 : -1);
  return scratch[0]!;
}

/**
 * The float32 scale of a row whose largest magnitude is `maxAbs`: the nearest float32 to maxAbs/127
 * (so the row's largest value decodes to itself), raised a step when maxAbs/scale is above 127.5 (a
 * subnormal scale, or one that rounded to 0, would clamp the row's largest values by more than half a
 * step; one step is enough), lowered a step when 127·scale overflows float32 (a row holding
 * ±3.4028235e38 would decode to ±Infinity; the clamp then costs one float32 step of the scale).
 */
function rowScale(maxAbs: number): number {
  let scale = Math.fround(maxAbs / 127);
  if (maxAbs > 127.5 * scale) scale = nextF32(scale, true);
  if (Math.fround(scale * 127) === Infinity) scale = nextF32(scale, false);
  return scale;
}

/** Row length and row count of a tensor of `count` elements whose last dimension is `lastDim`. */
export function rowsOf(count: number, lastDim: number | undefined): { rows: number; rowLength: number } {
  const rowLength = lastDim ?? 1;
  return { rows: rowLength === 0 ? 0 : count / rowLength, rowLength };
}

/** Bytes an int8-coded tensor takes: a float32 scale per row, then one byte per element. */
export function int8ByteLength(count: number, lastDim: number | undefined): number {
  return rowsOf(count, lastDim).rows * 4 + count;
}

/**
 * Writes scales then codes into `out` at `offset`. Returns the index of the first non-finite value
 * (which int8 cannot carry), or -1.
 */
export function encodeInt8RowsInto(
  src: Float32Array,
  lastDim: number | undefined,
  out: Uint8Array,
  offset: number,
): number {
  const { rows, rowLength } = rowsOf(src.length, lastDim);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const codes = new Int8Array(out.buffer, out.byteOffset + offset + rows * 4, src.length);
  for (let r = 0; r < rows; r++) {
    const start = r * rowLength;
    let maxAbs = 0;
    for (let i = start; i < start + rowLength; i++) {
      const v = src[i]!;
      if (v - v !== 0) return i;
      const a = v < 0 ? -v : v;
      if (a > maxAbs) maxAbs = a;
    }
    const scale = rowScale(maxAbs); // the decoder sees the f32 scale; quantise with the same
    view.setFloat32(offset + r * 4, scale, true);
    const inv = scale === 0 ? 0 : 1 / scale;
    for (let i = start; i < start + rowLength; i++) {
      const q = Math.round(src[i]! * inv);
      codes[i] = q > 127 ? 127 : q < -127 ? -127 : q;
    }
  }
  return -1;
}

/** Decodes an int8-coded tensor of `count` elements from exactly its bytes. */
export function decodeInt8Rows(src: Uint8Array, count: number, lastDim: number | undefined): Float32Array {
  const { rows, rowLength } = rowsOf(count, lastDim);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const codes = new Int8Array(src.buffer, src.byteOffset + rows * 4, count);
  const out = new Float32Array(count);
  for (let r = 0; r < rows; r++) {
    const scale = view.getFloat32(r * 4, true);
    const start = r * rowLength;
    for (let i = start; i < start + rowLength; i++) out[i] = codes[i]! * scale;
  }
  return out;
}
