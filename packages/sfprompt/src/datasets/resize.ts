// Image resizing for [N, C, H, W] float images, separable: bilinear (half-pixel centres, as
// PyTorch's interpolate with align_corners=False) and area (exact box averaging, as OpenCV's
// INTER_AREA), the right choice when shrinking 28×28 digits for a small ViT.

import { type Dataset, materialize } from "./dataset.js";
import { DatasetArgumentError } from "./errors.js";

export type ResizeMethod = "bilinear" | "area";

export interface ResizeSpec {
  height: number;
  width: number;
  /** Default: area when shrinking both axes, bilinear otherwise. */
  method?: ResizeMethod;
}

// For each output position: the input positions it reads and their weights.
interface AxisWeights {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

function bilinearWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const taps: Array<[number, number][]> = [];
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const f = src - i0;
    taps.push(
      i1 === i0
        ? [[i0, 1]]
        : [
            [i0, 1 - f],
            [i1, f],
          ],
    );
  }
  return pack(taps);
}

function areaWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const taps: Array<[number, number][]> = [];
  for (let o = 0; o < outSize; o++) {
    const lo = o * scale;
    const hi = (o + 1) * scale;
    const list: [number, number][] = [];
    for (let i = Math.floor(lo); i < Math.min(Math.ceil(hi), inSize); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 1e-9) list.push([i, overlap / scale]);
    }
    taps.push(list);
  }
  return pack(taps);
}

function pack(taps: Array<[number, number][]>): AxisWeights {
  const total = taps.reduce((n, t) => n + t.length, 0);
  const w: AxisWeights = {
    start: new Int32Array(taps.length),
    count: new Int32Array(taps.length),
    index: new Int32Array(total),
    weight: new Float32Array(total),
  };
  let k = 0;
  taps.forEach((list, o) => {
    w.start[o] = k;
    w.count[o] = list.length;
    for (const [i, wt] of list) {
      w.index[k] = i;
      w.weight[k++] = wt;
    }
  });
  return w;
}

function axisWeights(method: ResizeMethod, inSize: number, outSize: number): AxisWeights {
  return method === "area" ? areaWeights(inSize, outSize) : bilinearWeights(inSize, outSize);
}

function checkSize(spec: ResizeSpec): void {
  for (const [field, v] of [
    ["resize.height", spec.height],
    ["resize.width", spec.width],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new DatasetArgumentError(field, `must be a positive integer, got ${v}`);
  }
}

/** The method `spec` asks for, or the default for its direction. */
export function resizeMethod(spec: ResizeSpec, inH: number, inW: number): ResizeMethod {
  return spec.method ?? (spec.height <= inH && spec.width <= inW ? "area" : "bilinear");
}

/** Resizes every plane of an [N, C, H, W] buffer; returns a new [N, C, height, width] buffer. */
export function resizeImages(x: Float32Array, shape: readonly number[], spec: ResizeSpec): Float32Array {
  checkSize(spec);
  if (shape.length !== 4)
    throw new DatasetArgumentError("shape", `must be [N, C, H, W], got [${shape.join(", ")}]`);
  const [n, c, inH, inW] = shape as [number, number, number, number];
  const method = resizeMethod(spec, inH, inW);
  const wy = axisWeights(method, inH, spec.height);
  const wx = axisWeights(method, inW, spec.width);
  const planes = n * c;
  const tmp = new Float32Array(inH * spec.width);
  const out = new Float32Array(planes * spec.height * spec.width);
  for (let p = 0; p < planes; p++) {
    resizeRows(x, p * inH * inW, inH, inW, wx, tmp, spec.width);
    resizeCols(tmp, spec.width, wy, out, p * spec.height * spec.width, spec.height);
  }
  return out;
}

function resizeRows(
  x: Float32Array,
  base: number,
  h: number,
  w: number,
  wx: AxisWeights,
  tmp: Float32Array,
  outW: number,
): void {
  for (let y = 0; y < h; y++) {
    const row = base + y * w;
    for (let o = 0; o < outW; o++) {
      let acc = 0;
      for (let k = wx.start[o] as number, end = k + (wx.count[o] as number); k < end; k++) {
        acc += (x[row + (wx.index[k] as number)] as number) * (wx.weight[k] as number);
      }
      tmp[y * outW + o] = acc;
    }
  }
}

function resizeCols(
  tmp: Float32Array,
  w: number,
  wy: AxisWeights,
  out: Float32Array,
  base: number,
  outH: number,
): void {
  for (let o = 0; o < outH; o++) {
    for (let xx = 0; xx < w; xx++) {
      let acc = 0;
      for (let k = wy.start[o] as number, end = k + (wy.count[o] as number); k < end; k++) {
        acc += (tmp[(wy.index[k] as number) * w + xx] as number) * (wy.weight[k] as number);
      }
      out[base + o * w + xx] = acc;
    }
  }
}

/** A resized copy of an image dataset with samples [C, H, W]. */
export function resizeDataset(ds: Dataset<Float32Array>, spec: ResizeSpec): Dataset<Float32Array> {
  if (ds.sampleShape.length !== 3) {
    throw new DatasetArgumentError(
      "sampleShape",
      `resize needs [C, H, W] samples, got [${ds.sampleShape.join(", ")}]`,
    );
  }
  const dense = materialize(ds);
  const [c, h, w] = ds.sampleShape as [number, number, number];
  const x = resizeImages(dense.x, [dense.labels.length, c, h, w], spec);
  return { ...dense, x, sampleShape: [c, spec.height, spec.width] };
}
