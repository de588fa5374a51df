// The partitioning a job spec asks for (spec.data.partitioning: strategy, alpha, seed,
// samplesPerClient), applied to a dataset: one view per client, identical in every process.

import { type Dataset, type FeatureArray, subset } from "./dataset.js";
import { DatasetArgumentError } from "./errors.js";
import { partitionIndices } from "./partition.js";
import { Rng, deriveSeed } from "./rng.js";

/** The fields of the API's `Partitioning` that the split needs (structurally the same type). */
export interface JobPartitioning {
  strategy: "iid" | "dirichlet" | "none";
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
  const { strategy, alpha, seed, samplesPerClient } = partitioning;
  if (samplesPerClient !== undefined && (!Number.isInteger(samplesPerClient) || samplesPerClient <= 0)) {
    throw new DatasetArgumentError("samplesPerClient", `must be a positive integer, got ${samplesPerClient}`);
  }
  const all = Int32Array.from(ds.labels, (_, i) => i);
  const shards =
    strategy === "none"
      ? Array.from({ length: clients }, () => all)
      : partitionIndices(ds, strategy === "iid" ? { kind: "iid" } : { kind: "dirichlet", alpha }, {
          clients,
          seed,
        });
  return shards.map((idx, client) => subset(ds, cap(idx, samplesPerClient, seed, client)));
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
