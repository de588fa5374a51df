// The committed sentence-transformers reference (fixtures/minilm/reference.json: token ids from the
// reference tokenizer, L2-normalised mean-pooled embeddings) and the pooling maths the tests compare.
import { readFileSync } from "node:fs";
import { makeTensor, runOnce, type Model, type Tensor } from "@sfprompt/engine";

export interface Reference {
  readonly sentences: readonly string[];
  readonly inputIds: readonly (readonly number[])[];
  readonly attentionMask: readonly (readonly number[])[];
  readonly embeddings: readonly (readonly number[])[];
}

const FILE = new URL("../fixtures/minilm/reference.json", import.meta.url).pathname;

export function loadReference(): Reference {
  const j = JSON.parse(readFileSync(FILE, "utf8")) as {
    sentences: string[];
    input_ids: number[][];
    attention_mask: number[][];
    embeddings: number[][];
  };
  return {
    sentences: j.sentences,
    inputIds: j.input_ids,
    attentionMask: j.attention_mask,
    embeddings: j.embeddings,
  };
}

function int64(rows: readonly (readonly number[])[]): Tensor {
  const flat = rows.flat();
  return makeTensor("int64", [rows.length, rows[0]?.length ?? 0], BigInt64Array.from(flat, BigInt));
}

/** The model feeds of the reference batch. */
export function referenceFeeds(r: Reference): Record<string, Tensor> {
  return { input_ids: int64(r.inputIds), attention_mask: int64(r.attentionMask) };
}

/** Mean of [B, S, D] over the tokens whose mask is 1 → [B][D]. */
export function maskedMean(hidden: Tensor, mask: readonly (readonly number[])[]): number[][] {
  const [b, s, d] = hidden.dims as [number, number, number];
  const x = hidden.data as Float32Array;
  const out: number[][] = [];
  for (let i = 0; i < b; i++) {
    const sum = new Array<number>(d).fill(0);
    let n = 0;
    for (let t = 0; t < s; t++) {
      if (mask[i]?.[t] !== 1) continue;
      n++;
      for (let k = 0; k < d; k++) sum[k] = (sum[k] as number) + (x[(i * s + t) * d + k] as number);
    }
    out.push(sum.map((v) => v / n));
  }
  return out;
}

/** Rows of a [B, D] tensor. */
export function rows(t: Tensor): number[][] {
  const [b, d] = t.dims as [number, number];
  const x = Array.from(t.data as Float32Array);
  return Array.from({ length: b }, (_, i) => x.slice(i * d, (i + 1) * d));
}

export function l2Normalize(v: readonly number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Largest |a − b| over all elements of two equally shaped tables. */
export function maxAbsDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  if (a.length !== b.length) throw new Error(`row counts differ: ${a.length} vs ${b.length}`);
  let m = 0;
  a.forEach((row, i) => {
    const other = b[i] as readonly number[];
    if (row.length !== other.length)
      throw new Error(`row ${i} lengths differ: ${row.length} vs ${other.length}`);
    row.forEach((v, k) => (m = Math.max(m, Math.abs(v - (other[k] as number)))));
  });
  return m;
}

/** Runs a model (IR or file) once on the reference batch. */
export function runReference(
  model: Model | string,
  r: Reference,
  extra: Record<string, Tensor> = {},
): Promise<Record<string, Tensor>> {
  return runOnce(model, { ...referenceFeeds(r), ...extra });
}
