// The partitioning a job's processes apply: an unset strategy splits data that every client reads one
// copy of (built-in sets; anything under `sfprompt run`) and leaves a cluster client's own folder or
// JSONL file whole; a strategy the job gives is kept.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults, jobPartitioning, toRunConfig, type DataPlacement } from "../src/index.js";
import { jobWith, type Json } from "./helpers/builders.js";

const folder = { imageFolder: { path: "/data/train" } };
const jsonl = { jsonl: { path: "/data/train.jsonl" } };
const held = { imageFolder: { path: "/data/held" } };

const cases: { name: string; data: Json; placement: DataPlacement; strategy: string }[] = [
  { name: "built-in data on a cluster is split iid", data: {}, placement: "cluster", strategy: "iid" },
  {
    name: "a folder on a cluster is each client's own: used whole",
    data: { source: folder, evalSource: held },
    placement: "cluster",
    strategy: "none",
  },
  {
    name: "a JSONL file on a cluster is each client's own: used whole",
    data: { source: jsonl, evalSource: held },
    placement: "cluster",
    strategy: "none",
  },
  {
    name: "a folder on one machine is one copy for every client: split iid",
    data: { source: folder, evalSource: held },
    placement: "one-machine",
    strategy: "iid",
  },
  {
    name: "iid over a folder on a cluster is kept when the job asks for it",
    data: { source: folder, evalSource: held, partitioning: { strategy: "iid" } },
    placement: "cluster",
    strategy: "iid",
  },
  {
    name: "dirichlet over built-in data is kept",
    data: { partitioning: { strategy: "dirichlet", alpha: 0.1 } },
    placement: "one-machine",
    strategy: "dirichlet",
  },
];

describe("jobPartitioning", () => {
  for (const c of cases) {
    it(c.name, () => {
      const config = toRunConfig(applyDefaults(jobWith({ data: c.data })));
      const p = jobPartitioning(config.data, c.placement);
      assert.equal(p.strategy, c.strategy);
      // the rest of the partitioning is the job's
      assert.deepEqual(p, { ...config.data.partitioning, strategy: c.strategy });
    });
  }
});
