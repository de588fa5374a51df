// int8 quantisation with one float32 scale per row (rows = last-dimension vectors): each row is
// scaled by max|x|/127, so the error per element is at most half a step, max|x_row|/254.

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
    const scale = Math.fround(maxAbs / 127); // the decoder sees the f32 scale; quantise with the same
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
