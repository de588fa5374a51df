// Reads the committed PyTorch reference fixtures (fixtures/torch/<name>/reference.{json,bin}, made by
// fixtures/gen/) into ORT tensors, and measures how far a result lies from a reference.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tensor } from "onnxruntime-node";

export interface TensorEntry {
  name: string;
  dtype: "float32" | "int64";
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

/** One set of inputs (a batch size, a sequence length) with its references. */
export interface FixtureCase {
  name: string;
  inputs: TensorEntry[];
  outputs: TensorEntry[];
  upstream: (TensorEntry & { output: string })[];
  gradients: (TensorEntry & { wrt: string })[];
}

export interface TorchFixture {
  name: string;
  dir: string;
  modelPath: string;
  wrt: string[];
  cases: FixtureCase[];
  bin: Buffer;
}

export const fixtureNames = ["vit", "bert"] as const;

/** A committed fixture that does not match its manifest. */
export class FixtureError extends Error {
  override name = "FixtureError";
}

const fixturesRoot = new URL("./fixtures/torch/", import.meta.url).pathname;

export function loadFixture(name: string): TorchFixture {
  const dir = join(fixturesRoot, name);
  const manifest = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as Omit<
    TorchFixture,
    "dir" | "modelPath" | "bin"
  > & { model: string };
  const bin = readFileSync(join(dir, "reference.bin"));
  for (const c of manifest.cases) {
    for (const e of [...c.inputs, ...c.outputs, ...c.upstream, ...c.gradients]) {
      if (e.byteOffset + e.byteLength > bin.length) {
        throw new Error(
          `fixture ${name}, ${c.name}: tensor ${e.name} lies past the end of reference.bin; regenerate it`,
        );
      }
    }
  }
  return { ...manifest, dir, modelPath: join(dir, manifest.model), bin };
}

/** Copies one tensor out of reference.bin (copies keep typed arrays aligned). */
export function tensorOf(fixture: TorchFixture, entry: TensorEntry): Tensor {
  const start = fixture.bin.byteOffset + entry.byteOffset;
  const bytes = fixture.bin.buffer.slice(start, start + entry.byteLength);
  const data = entry.dtype === "float32" ? new Float32Array(bytes) : new BigInt64Array(bytes);
  return new Tensor(entry.dtype, data, entry.shape);
}

/** Inputs of M plus the upstream gradient grad_O for every output O, keyed by graph input name. */
export function gradientFeeds(fixture: TorchFixture, c: FixtureCase): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const e of [...c.inputs, ...c.upstream]) feeds[e.name] = tensorOf(fixture, e);
  return feeds;
}

export interface Discrepancy {
  /** ‖a − b‖₂ / max(‖b‖₂, 1e-30) */
  relErr: number;
  /** max |aᵢ − bᵢ| */
  maxAbsErr: number;
  /** max |bᵢ|: the scale the element-wise error is judged against */
  maxAbsRef: number;
  nonFinite: number;
}

export function discrepancy(actual: Tensor, expected: Tensor): Discrepancy {
  const a = actual.data as Float32Array;
  const b = expected.data as Float32Array;
  let diff2 = 0;
  let ref2 = 0;
  let maxAbsErr = 0;
  let maxAbsRef = 0;
  let nonFinite = 0;
  for (let i = 0; i < b.length; i++) {
    const ai = a[i] ?? Number.NaN;
    const bi = b[i] ?? 0;
    if (!Number.isFinite(ai)) nonFinite++;
    const d = Math.abs(ai - bi);
    diff2 += d * d;
    ref2 += bi * bi;
    maxAbsErr = Math.max(maxAbsErr, d);
    maxAbsRef = Math.max(maxAbsRef, Math.abs(bi));
  }
  return { relErr: Math.sqrt(diff2) / Math.max(Math.sqrt(ref2), 1e-30), maxAbsErr, maxAbsRef, nonFinite };
}

/** Null when `actual` matches `expected` in dtype, shape, norm-relative and element-wise error. */
export function mismatch(actual: Tensor | undefined, expected: Tensor, tol: number): string | null {
  if (actual === undefined) return "missing from the model's outputs";
  if (actual.type !== "float32") return `dtype ${actual.type}, expected float32`;
  if (actual.dims.join(",") !== expected.dims.join(",")) {
    return `shape [${actual.dims.join(",")}], expected [${expected.dims.join(",")}]`;
  }
  const d = discrepancy(actual, expected);
  const fmt = (x: number): string => x.toExponential(2);
  const summary = `relErr ${fmt(d.relErr)}, maxAbsErr ${fmt(d.maxAbsErr)} (max|ref| ${fmt(d.maxAbsRef)})`;
  if (d.nonFinite > 0) return `${d.nonFinite} non-finite values; ${summary}`;
  if (d.relErr > tol || d.maxAbsErr > tol * d.maxAbsRef) return `${summary} exceeds ${tol}`;
  return null;
}
