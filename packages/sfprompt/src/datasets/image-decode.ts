// Decodes one image file (PNG via pngjs, PGM/PPM natively) and converts it to the channel layout
// a dataset wants: grayscale (ITU-R BT.601 luma) or RGB, planar [C, H, W], values in [0, 1].

import { PNG } from "pngjs";
import { DatasetFormatError } from "./errors.js";
import { tooManyPixels } from "./image-limits.js";
import { type DecodedImage, decodeNetpbm } from "./netpbm.js";

export type ColorMode = "grayscale" | "rgb";

export const IMAGE_EXTENSIONS: readonly string[] = [".png", ".pgm", ".ppm", ".pnm"];

// A PNG starts with its 8-byte signature and the IHDR chunk: length, "IHDR", width, height (big-endian).
const PNG_START = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];

function checkPngSize(bytes: Uint8Array, source: string): void {
  // anything else is not a PNG: pngjs says what is wrong with it
  if (bytes.length < 24 || PNG_START.some((b, i) => bytes[i] !== b)) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tooBig = tooManyPixels(view.getUint32(16, false), view.getUint32(20, false));
  if (tooBig !== undefined) throw new DatasetFormatError(source, tooBig);
}

function decodePng(bytes: Uint8Array, source: string): DecodedImage {
  checkPngSize(bytes, source);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (cause) {
    throw new DatasetFormatError(source, `is not a readable PNG (${(cause as Error).message})`, { cause });
  }
  // pngjs always unpacks to 8-bit RGBA; alpha is dropped (images are taken as opaque).
  const n = png.width * png.height;
  const data = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = (png.data[p * 4 + c] as number) / 255;
  }
  return { width: png.width, height: png.height, channels: 3, data };
}

/** Decodes a file by its extension (case-insensitive). */
export function decodeImage(bytes: Uint8Array, source: string): DecodedImage {
  const lower = source.toLowerCase();
  if (lower.endsWith(".png")) return decodePng(bytes, source);
  if (IMAGE_EXTENSIONS.some((e) => lower.endsWith(e))) return decodeNetpbm(bytes, source);
  throw new DatasetFormatError(source, `unsupported image type; use one of ${IMAGE_EXTENSIONS.join(", ")}`);
}

/** Planar [C, H, W] pixels of `img` in the requested colour mode. */
export function toPlanar(img: DecodedImage, mode: ColorMode): Float32Array {
  const n = img.width * img.height;
  const outChannels = mode === "grayscale" ? 1 : 3;
  const out = new Float32Array(outChannels * n);
  for (let p = 0; p < n; p++) {
    if (img.channels === 1) {
      const v = img.data[p] as number;
      for (let c = 0; c < outChannels; c++) out[c * n + p] = v;
    } else if (mode === "rgb") {
      for (let c = 0; c < 3; c++) out[c * n + p] = img.data[p * 3 + c] as number;
    } else {
      const [r, g, b] = [
        img.data[p * 3] as number,
        img.data[p * 3 + 1] as number,
        img.data[p * 3 + 2] as number,
      ];
      out[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    }
  }
  return out;
}
