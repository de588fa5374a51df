// Builders shared by the datasets tests: small synthetic datasets and temp folders.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Dataset, createDataset } from "@sfprompt/core";

/** N samples of shape [C, H, W] whose values encode (sample, element): x = sample + element/1000. */
export function numberedImages(
  n: number,
  shape: [number, number, number],
  classes = 3,
): Dataset<Float32Array> {
  const per = shape[0] * shape[1] * shape[2];
  const x = Float32Array.from({ length: n * per }, (_, k) => Math.floor(k / per) + (k % per) / 1000);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  return createDataset({
    x,
    sampleShape: shape,
    labels,
    classNames: Array.from({ length: classes }, (_, c) => `c${c}`),
  });
}

/** Runs `body` with a fresh temp directory, removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "sfprompt-datasets-"));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Encodes an IDX buffer (big-endian) the way the MNIST files are written. */
export function encodeIdx(
  typeCode: number,
  dims: number[],
  write: (view: DataView, offset: number) => void,
  bytesPerElement: number,
): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * dims.length;
  const out = new Uint8Array(offset + count * bytesPerElement);
  const view = new DataView(out.buffer);
  out.set([0, 0, typeCode, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  write(view, offset);
  return out;
}

/** A uint8 IDX buffer with the given dims and bytes. */
export function encodeIdxBytes(dims: number[], bytes: ArrayLike<number>): Uint8Array {
  return encodeIdx(
    0x08,
    dims,
    (view, offset) => Array.from(bytes).forEach((b, i) => view.setUint8(offset + i, b)),
    1,
  );
}
