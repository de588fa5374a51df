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
