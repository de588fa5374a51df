// Decoder for the Netpbm formats a user can write with any tool: PGM (P2 text, P5 binary) and
// PPM (P3 text, P6 binary), 8- or 16-bit; values scaled to [0, 1].

import { DatasetFormatError } from "./errors.js";
import { tooManyPixels } from "./image-limits.js";

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** 1 (gray) or 3 (RGB), interleaved per pixel (HWC). */
  readonly channels: 1 | 3;
  /** width × height × channels values in [0, 1]. */
  readonly data: Float32Array;
}

const isSpace = (b: number): boolean =>
  b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

// Reads the next whitespace-separated ASCII token, skipping `#` comments.
function nextToken(bytes: Uint8Array, pos: number): { token: string; end: number } {
  let i = pos;
  for (;;) {
    while (i < bytes.length && isSpace(bytes[i] as number)) i++;
    if (bytes[i] !== 0x23) break;
    while (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0x0d) i++;
  }
  const start = i;
  while (i < bytes.length && !isSpace(bytes[i] as number) && bytes[i] !== 0x23) i++;
  return { token: String.fromCharCode(...bytes.subarray(start, i)), end: i };
}

function headerInt(
  bytes: Uint8Array,
  pos: number,
  field: string,
  source: string,
): { value: number; end: number } {
  const { token, end } = nextToken(bytes, pos);
  const value = Number(token);
  if (token === "" || !Number.isInteger(value) || value <= 0) {
    throw new DatasetFormatError(
      source,
      `Netpbm header field ${field} is "${token}", expected a positive integer`,
    );
  }
  return { value, end };
}

/** Decodes a P2/P3/P5/P6 file. */
export function decodeNetpbm(bytes: Uint8Array, source: string): DecodedImage {
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0);
  if (!["P2", "P3", "P5", "P6"].includes(magic)) {
    throw new DatasetFormatError(source, `magic "${magic}" is not a PGM/PPM (P2, P3, P5, P6) file`);
  }
  const channels = magic === "P3" || magic === "P6" ? 3 : 1;
  const w = headerInt(bytes, 2, "width", source);
  const h = headerInt(bytes, w.end, "height", source);
  const max = headerInt(bytes, h.end, "maxval", source);
  if (max.value > 65535) throw new DatasetFormatError(source, `maxval ${max.value} is above 65535`);
  const tooBig = tooManyPixels(w.value, h.value);
  if (tooBig !== undefined) throw new DatasetFormatError(source, tooBig);
  const count = w.value * h.value * channels;
  const data =
    magic === "P2" || magic === "P3"
      ? decodePlain(bytes, max.end, count, max.value, source)
      : decodeRaw(bytes, max.end + 1, count, max.value, source);
  return { width: w.value, height: h.value, channels, data };
}

function decodePlain(
  bytes: Uint8Array,
  pos: number,
  count: number,
  maxval: number,
  source: string,
): Float32Array {
  // every sample takes a byte at least: a header that promises more than the file holds is refused
  // before its buffer is made
  if (count > bytes.length - pos) {
    throw new DatasetFormatError(
      source,
      `header says ${count} samples but ${bytes.length - pos} bytes follow it; truncated?`,
    );
  }
  const out = new Float32Array(count);
  let at = pos;
  for (let i = 0; i < count; i++) {
    const { token, end } = nextToken(bytes, at);
    const v = Number(token);
    if (token === "" || !Number.isInteger(v) || v < 0 || v > maxval) {
      throw new DatasetFormatError(
        source,
        `sample ${i} of ${count} is "${token}", expected an integer in 0..${maxval}`,
      );
    }
    out[i] = v / maxval;
    at = end;
  }
  return out;
}

function decodeRaw(
  bytes: Uint8Array,
  pos: number,
  count: number,
  maxval: number,
  source: string,
): Float32Array {
  const width = maxval < 256 ? 1 : 2;
  if (bytes.length < pos + count * width) {
    throw new DatasetFormatError(
      source,
      `has ${bytes.length - pos} data bytes, expected ${count * width}; truncated?`,
    );
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v =
      width === 1
        ? (bytes[pos + i] as number)
        : ((bytes[pos + 2 * i] as number) << 8) | (bytes[pos + 2 * i + 1] as number);
    if (v > maxval) {
      throw new DatasetFormatError(
        source,
        `sample ${i} of ${count} is ${v}, above the header's maxval ${maxval}`,
      );
    }
    out[i] = v / maxval;
  }
  return out;
}

/** Encodes 8-bit gray (P5) or RGB (P6) pixels; used to write fixtures and exports. */
export function encodeNetpbm(width: number, height: number, channels: 1 | 3, pixels: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(`${channels === 1 ? "P5" : "P6"}\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + pixels.length);
  out.set(header);
  out.set(pixels, header.length);
  return out;
}
