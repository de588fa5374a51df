// The data a local process of a job reads: the training split (partitioned per client by the
// spec's partitioning) and the held-out set the server evaluates on. `sfprompt run` supports the
// built-in datasets; folder and JSONL sources are read by the images on a cluster.
import type { RunConfig } from "@sfprompt/api";
import { loadBuiltinDataset, type Dataset } from "@sfprompt/core";
import { JobDataError } from "./errors.js";

type Source = RunConfig["data"]["source"];

function builtinOf(source: Source, field: string): NonNullable<Source["builtin"]> {
  if (source.builtin === undefined)
    throw new JobDataError(
      field,
      "sfprompt run reads built-in datasets only; use builtin: mnist, fashion-mnist or digits",
    );
  return source.builtin;
}

/** The training split of the job's data source (all of it: clients take their shard). */
export function loadTrainData(c: RunConfig): Promise<Dataset> {
  return loadBuiltinDataset(builtinOf(c.data.source, "spec.data.source"), { split: "train" });
}

/** The held-out set: spec.data.evalSource, else the test split of the built-in source. */
export function loadEvalData(c: RunConfig): Promise<Dataset> {
  const source = c.data.evalSource ?? c.data.source;
  const field = c.data.evalSource ? "spec.data.evalSource" : "spec.data.source";
  return loadBuiltinDataset(builtinOf(source, field), { split: "test" });
}
