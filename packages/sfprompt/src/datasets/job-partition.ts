// The partitioning a job spec asks for (spec.data.partitioning: strategy, alpha, seed,
// samplesPerClient), applied to a dataset: one view per client, identical in every process.

import { type Dataset, type FeatureArray, subset } from "./dataset.js";
import { DatasetArgumentError, JobPartitionError, PartitionError, type PartitionFailure } from "./errors.js";
import { partitionIndices, type PartitionSpec } from "./partition.js";
import { Rng, deriveSeed } from "./rng.js";

/**
 * The fields of the API's `Partitioning` that the split needs (structurally the same type). An unset
 * strategy is iid: `ds` is one copy that the clients share. A cluster client's own folder is not;
 * the images resolve the job's strategy with the API's jobPartitioning (ADR 0005 amendment 2).
 */
export interface JobPartitioning {
  strategy?: "iid" | "dirichlet" | "none" | undefined;
  alpha: number;
  seed: number;
  samplesPerClient?: number | undefined;
}

const CAP_STREAM = 0x63617073;

// A seeded random subset of n indices of a shard, kept in ascending order.
function cap(indices: Int32Array, n: number | undefined, seed: number, client: number): Int32Array {
  if (n === undefined || indices.length <= n) return indices;
  const rng = new Rng(deriveSeed(seed, CAP_STREAM, client));
  return rng.shuffle(indices.slice()).subarray(0, n).sort();
}

/**
 * Every client's view of `ds` for a job with `clients` clients. Strategy `none` gives each client
 * all of `ds` (each reads its own data at its own path).
 */
export function partitionForJob<X extends FeatureArray>(
  ds: Dataset<X>,
  partitioning: JobPartitioning,
  clients: number,
): Dataset<X>[] {
  const { strategy = "iid", alpha, seed, samplesPerClient } = partitioning;
  if (samplesPerClient !== undefined && (!Number.isInteger(samplesPerClient) || samplesPerClient <= 0)) {
    throw new DatasetArgumentError("samplesPerClient", `must be a positive integer, got ${samplesPerClient}`);
  }
  const all = Int32Array.from(ds.labels, (_, i) => i);
  const shards =
    strategy === "none"
      ? Array.from({ length: clients }, () => all)
      : jobShards(ds, strategy === "iid" ? { kind: "iid" } : { kind: "dirichlet", alpha }, clients, seed);
  return shards.map((idx, client) => subset(ds, cap(idx, samplesPerClient, seed, client)));
}

function jobShards(ds: Dataset, spec: PartitionSpec, clients: number, seed: number): Int32Array[] {
  try {
    return partitionIndices(ds, spec, { clients, seed });
  } catch (cause) {
    if (!(cause instanceof PartitionError)) throw cause;
    const { field, detail } = jobRefusal(cause.failure);
    throw new JobPartitionError(field, detail, { cause });
  }
}

// The job fields a user can change (minSize and maxTries are not among them).
function jobRefusal(f: PartitionFailure): { field: string; detail: string } {
  switch (f.kind) {
    case "more-clients-than-samples":
      return {
        field: "spec.clients.count",
        detail: `is ${f.clients}, but the training data (spec.data.source) holds ${f.samples} sample${f.samples === 1 ? "" : "s"}: every client needs one at least; set spec.clients.count to ${f.samples} or less, or use more data`,
      };
    case "min-size-infeasible":
      return {
        field: "spec.clients.count",
        detail: `is ${f.clients}, but strategy dirichlet (spec.data.partitioning) gives every client ${f.minSize} samples at least and the training data (spec.data.source) holds ${f.samples}, fewer than ${f.minSize} × ${f.clients}; set spec.clients.count to ${Math.floor(f.samples / f.minSize)} or less, or use strategy iid`,
      };
    case "draws-exhausted":
      return {
        field: "spec.data.partitioning.alpha",
        detail: `is ${f.alpha}: in ${f.tries} Dirichlet draws over ${f.clients} clients one client always got fewer than ${f.minSize} samples (the last draw left one with ${f.smallest}); raise spec.data.partitioning.alpha, lower spec.clients.count, or use strategy iid`,
      };
  }
}

/** One client's view (see partitionForJob). */
export function clientShard<X extends FeatureArray>(
  ds: Dataset<X>,
  partitioning: JobPartitioning,
  clients: number,
  client: number,
): Dataset<X> {
  if (!Number.isInteger(client) || client < 0 || client >= clients) {
    throw new DatasetArgumentError("client", `must be an index in 0..${clients - 1}, got ${client}`);
  }
  return partitionForJob(ds, partitioning, clients)[client] as Dataset<X>;
}
