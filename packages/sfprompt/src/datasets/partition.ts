// Splitting a dataset across K federated clients with a seed: IID (equal random shards) and the
// standard label-skewed Dirichlet(α) recipe (Hsu et al. 2019; NIID-Bench, Li et al. 2022).

import { type Dataset, type FeatureArray, datasetSize, indicesByClass, subset } from "./dataset.js";
import { sampleSymmetricDirichlet } from "./distributions.js";
import { DatasetArgumentError, PartitionError } from "./errors.js";
import { Rng, deriveSeed } from "./rng.js";

export type PartitionSpec =
  | { kind: "iid" }
  | {
      kind: "dirichlet";
      /** Concentration: small (0.1) gives few classes per client, large (100) is near IID. */
      alpha: number;
      /** Every client gets at least this many samples; draws are repeated until so (default 10). */
      minSize?: number;
      /** Stop giving a class to clients that already hold n/K samples, as NIID-Bench does (default true). */
      balance?: boolean;
      /** Give up after this many draws (default 1000). */
      maxTries?: number;
    };

export interface PartitionOptions {
  clients: number;
  seed: number;
}

// Tag so that partitions never share a random stream with batch orders drawn from the same seed.
const PARTITION_STREAM = 0x70617274;

function checkClients(clients: number, n: number): void {
  if (!Number.isInteger(clients) || clients <= 0) {
    throw new DatasetArgumentError("clients", `must be a positive integer, got ${clients}`);
  }
  if (clients > n)
    throw new PartitionError(`cannot split ${n} samples across ${clients} clients; use fewer clients`, {
      kind: "more-clients-than-samples",
      samples: n,
      clients,
    });
}

/** Equal random shards (sizes differ by at most one); each shard's indices ascending. */
export function partitionIid(n: number, options: PartitionOptions): Int32Array[] {
  checkClients(options.clients, n);
  const perm = new Rng(deriveSeed(options.seed, PARTITION_STREAM, 0)).permutation(n);
  const out: Int32Array[] = [];
  for (let c = 0; c < options.clients; c++) {
    const lo = Math.floor((c * n) / options.clients);
    const hi = Math.floor(((c + 1) * n) / options.clients);
    out.push(perm.slice(lo, hi).sort());
  }
  return out;
}

type DirichletSpec = Extract<PartitionSpec, { kind: "dirichlet" }>;

// One draw of the recipe: per class, proportions ~ Dir(α) over clients, the class's shuffled
// indices cut at the cumulative proportions.
function drawOnce(
  rng: Rng,
  byClass: Int32Array[],
  n: number,
  clients: number,
  spec: DirichletSpec,
): number[][] {
  const buckets: number[][] = Array.from({ length: clients }, () => []);
  for (const members of byClass) {
    const idx = rng.shuffle(members.slice());
    const p = sampleSymmetricDirichlet(rng, spec.alpha, clients);
    const q = Float64Array.from(p, (v, j) =>
      spec.balance === false || (buckets[j] as number[]).length < n / clients ? v : 0,
    );
    const sum = q.reduce((a, b) => a + b, 0);
    const share = sum > 0 ? q.map((v) => v / sum) : p; // every client full: fall back to the raw draw
    let start = 0;
    let cumulative = 0;
    for (let j = 0; j < clients; j++) {
      cumulative += share[j] as number;
      const end = j === clients - 1 ? idx.length : Math.floor(cumulative * idx.length);
      for (let k = start; k < Math.max(start, end); k++) (buckets[j] as number[]).push(idx[k] as number);
      start = Math.max(start, end);
    }
  }
  return buckets;
}

/** Label-skewed shards: Dirichlet(α) class proportions per client, re-drawn until all are big enough. */
export function partitionDirichlet(
  labels: Int32Array,
  classes: number,
  spec: Omit<DirichletSpec, "kind">,
  options: PartitionOptions,
): Int32Array[] {
  const n = labels.length;
  checkClients(options.clients, n);
  const full: DirichletSpec = { kind: "dirichlet", minSize: 10, maxTries: 1000, ...spec };
  if (!(full.alpha > 0) || !Number.isFinite(full.alpha)) {
    throw new DatasetArgumentError("alpha", `must be a finite number > 0, got ${full.alpha}`);
  }
  const minSize = full.minSize as number;
  if (minSize * options.clients > n) {
    throw new PartitionError(
      `minSize ${minSize} × ${options.clients} clients exceeds the ${n} samples; lower minSize or the number of clients`,
      { kind: "min-size-infeasible", samples: n, clients: options.clients, minSize },
    );
  }
  const rng = new Rng(deriveSeed(options.seed, PARTITION_STREAM, 1));
  const byClass = indicesByClass(labels, classes);
  let smallest = 0;
  for (let attempt = 0; attempt < (full.maxTries as number); attempt++) {
    const buckets = drawOnce(rng, byClass, n, options.clients, full);
    smallest = Math.min(...buckets.map((b) => b.length));
    if (smallest >= minSize) return buckets.map((b) => Int32Array.from(b).sort());
  }
  throw new PartitionError(
    `Dirichlet(α=${full.alpha}) left a client with ${smallest} < minSize ${minSize} samples in all ${full.maxTries} draws; ` +
      `raise alpha, lower minSize or use fewer clients`,
    {
      kind: "draws-exhausted",
      alpha: full.alpha,
      clients: options.clients,
      minSize,
      smallest,
      tries: full.maxTries as number,
    },
  );
}

/** Client shards (logical indices into the dataset) for a partition spec. */
export function partitionIndices(ds: Dataset, spec: PartitionSpec, options: PartitionOptions): Int32Array[] {
  if (spec.kind === "iid") return partitionIid(datasetSize(ds), options);
  return partitionDirichlet(ds.labels, ds.classNames.length, spec, options);
}

/** One view per client over the same buffer. */
export function partitionDataset<X extends FeatureArray>(
  ds: Dataset<X>,
  spec: PartitionSpec,
  options: PartitionOptions,
): Dataset<X>[] {
  return partitionIndices(ds, spec, options).map((idx) => subset(ds, idx));
}

export interface HoldOutOptions {
  /** Fraction of samples held out for evaluation, in [0, 1). */
  fraction: number;
  seed: number;
  /** Hold out the same fraction of every class (default true). */
  stratified?: boolean;
}

/** Logical indices of a train / evaluation split, each ascending. */
export function holdOutIndices(
  labels: Int32Array,
  classes: number,
  options: HoldOutOptions,
): { train: Int32Array; eval: Int32Array } {
  if (!(options.fraction >= 0 && options.fraction < 1)) {
    throw new DatasetArgumentError("fraction", `must be in [0, 1), got ${options.fraction}`);
  }
  const rng = new Rng(deriveSeed(options.seed, PARTITION_STREAM, 2));
  const groups =
    options.stratified === false ? [Int32Array.from(labels, (_, i) => i)] : indicesByClass(labels, classes);
  const evalIdx: number[] = [];
  const trainIdx: number[] = [];
  for (const group of groups) {
    const shuffled = rng.shuffle(group.slice());
    const cut = Math.round(options.fraction * shuffled.length);
    shuffled.forEach((i, k) => (k < cut ? evalIdx : trainIdx).push(i));
  }
  return { train: Int32Array.from(trainIdx).sort(), eval: Int32Array.from(evalIdx).sort() };
}

/** A train / evaluation split of `ds` as two views. */
export function holdOut<X extends FeatureArray>(
  ds: Dataset<X>,
  options: HoldOutOptions,
): { train: Dataset<X>; eval: Dataset<X> } {
  const idx = holdOutIndices(ds.labels, ds.classNames.length, options);
  return { train: subset(ds, idx.train), eval: subset(ds, idx.eval) };
}
