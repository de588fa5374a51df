// The data a job's processes read from the run config, shaped for the bundle's model input.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PartitionBundle, datasetSize, loadClientData, loadEvalData } from "@sfprompt/core";
import { tinyBundle, type BundleFixture } from "./bundle-fixture.js";
import { jobConfig } from "./job-fixture.js";

let fixture: BundleFixture;
let bundle: PartitionBundle;
before(() => {
  fixture = tinyBundle();
  bundle = PartitionBundle.load(fixture.dir);
});
after(() => fixture.remove());

test("a client reads its capped shard of the built-in training split in the model's input shape", async () => {
  const config = jobConfig({
    data: {
      source: { builtin: "mnist" },
      partitioning: { strategy: "dirichlet", alpha: 0.5, samplesPerClient: 50 },
    },
  });
  const shard = await loadClientData(config, bundle, 1);
  assert.equal(datasetSize(shard), 50);
  assert.deepEqual(shard.sampleShape, [1, 28, 28]);
});

test("the held-out set is the built-in test split, and none when evaluation is off", async () => {
  const held = await loadEvalData(jobConfig({ training: { evaluation: { maxSamples: 100 } } }), bundle);
  assert.equal(datasetSize(held!), 10000);
  assert.equal(
    await loadEvalData(jobConfig({ training: { evaluation: { everyRounds: 0 } } }), bundle),
    undefined,
  );
});

test("a JSONL source whose samples do not fit the model input is refused, naming the file", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "sfprompt-jsonl-")), "train.jsonl");
  writeFileSync(path, `${JSON.stringify({ x: [1, 2, 3], label: 0 })}\n`);
  const config = jobConfig({ data: { source: { jsonl: { path } }, evalSource: { jsonl: { path } } } });
  try {
    await assert.rejects(
      loadClientData(config, bundle, 0),
      (e: unknown) => e instanceof Error && e.message.includes("train.jsonl"),
    );
  } finally {
    rmSync(dirname(path), { recursive: true, force: true });
  }
});
