// Child process of partition-processes.test.ts: reads an image folder and prints what a job's
// process derives from it (class order, labels, Dirichlet and IID shards, a hold-out split) as JSON.
import { holdOutIndices, loadImageFolder, partitionForJob } from "@sfprompt/core";

const root = process.argv[2]!;
const ds = await loadImageFolder(root);
const shards = (strategy: "iid" | "dirichlet"): number[][] =>
  partitionForJob(ds, { strategy, alpha: 0.3, seed: 7 }, 3).map((v) => Array.from(v.rows ?? []));
const held = holdOutIndices(ds.labels, ds.classNames.length, { fraction: 0.25, seed: 11 });
process.stdout.write(
  JSON.stringify({
    classNames: ds.classNames,
    labels: Array.from(ds.labels),
    iid: shards("iid"),
    dirichlet: shards("dirichlet"),
    heldOut: Array.from(held.eval),
  }),
);
