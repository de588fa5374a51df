// Per-channel normalisation as a pure step: statistics from one dataset (the training data),
// applied to any other (evaluation data, a client's shard) as (x - mean) / std.

import { type Dataset, datasetSize, materialize, physicalRow, sampleSize } from "./dataset.js";
import { DatasetArgumentError } from "./errors.js";

/** Mean and standard deviation per channel (the first axis of a sample's shape). */
export interface ChannelStats {
  readonly mean: Float32Array;
  readonly std: Float32Array;
}

// The first sample axis is the channel axis: C of [C, H, W], and every feature of a [D] sample.
function channelLayout(shape: readonly number[]): { channels: number; inner: number } {
  const channels = shape[0] as number;
  return { channels, inner: sampleSize(shape) / channels };
}

/** Population mean and std per channel over all samples of `ds` (accumulated in float64). */
export function channelStats(ds: Dataset<Float32Array>): ChannelStats {
  const { channels, inner } = channelLayout(ds.sampleShape);
  const per = channels * inner;
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let i = 0; i < datasetSize(ds); i++) {
    const base = physicalRow(ds, i) * per;
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let s2 = 0;
      for (let j = base + c * inner, end = j + inner; j < end; j++) {
        const v = ds.x[j] as number;
        s += v;
        s2 += v * v;
      }
      sum[c] = (sum[c] as number) + s;
      sumSq[c] = (sumSq[c] as number) + s2;
    }
  }
  const n = datasetSize(ds) * inner;
  if (n === 0) throw new DatasetArgumentError("dataset", "has no samples to compute statistics from");
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = (sum[c] as number) / n;
    mean[c] = m;
    std[c] = Math.sqrt(Math.max(0, (sumSq[c] as number) / n - m * m));
  }
  return { mean, std };
}

/**
 * Returns (x - mean) / std per channel as a new array of the same layout. A channel whose std is
 * 0 (a constant border, say) is only centred, because dividing would make it NaN.
 */
export function normalizeArray(
  x: Float32Array,
  sampleShape: readonly number[],
  stats: ChannelStats,
): Float32Array {
  const { channels, inner } = channelLayout(sampleShape);
  if (stats.mean.length !== channels || stats.std.length !== channels) {
    throw new DatasetArgumentError(
      "stats",
      `has ${stats.mean.length} means and ${stats.std.length} stds, but samples have ${channels} channels`,
    );
  }
  const out = new Float32Array(x.length);
  const per = channels * inner;
  for (let base = 0; base < x.length; base += per) {
    for (let c = 0; c < channels; c++) {
      const m = stats.mean[c] as number;
      const sd = stats.std[c] as number;
      const scale = sd > 0 ? 1 / sd : 1;
      for (let j = base + c * inner, end = j + inner; j < end; j++) out[j] = ((x[j] as number) - m) * scale;
    }
  }
  return out;
}

/** A normalised copy of `ds` (contiguous, owning its buffer); `ds` itself is untouched. */
export function normalizeDataset(ds: Dataset<Float32Array>, stats: ChannelStats): Dataset<Float32Array> {
  const dense = materialize(ds);
  return { ...dense, x: normalizeArray(dense.x, dense.sampleShape, stats) };
}
