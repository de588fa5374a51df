// Builds safetensors files in memory for the tests: well-formed ones from named tensors, and the raw
// framing (any header text, any length field) for the malformed cases.

export interface RawEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** 8-byte little-endian length, the header text as is, then the data. */
export function frame(header: string, data: Uint8Array = new Uint8Array(), length?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(data, 8 + h.byteLength);
  return out;
}

/** A well-formed file holding `entries` back to back. */
export function encodeSafetensors(entries: readonly RawEntry[]): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.byteLength] };
    offset += e.bytes.byteLength;
  }
  const data = new Uint8Array(offset);
  offset = 0;
  for (const e of entries) {
    data.set(e.bytes, offset);
    offset += e.bytes.byteLength;
  }
  return frame(JSON.stringify(header), data);
}

export function f32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat32(4 * i, x, true));
  return out;
}

export function u16Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(2 * values.length);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint16(2 * i, x, true));
  return out;
}
