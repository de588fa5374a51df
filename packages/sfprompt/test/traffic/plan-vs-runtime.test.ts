// The traffic planner against the runtime: real 2-client, 2-round jobs of every networked method on a
// real nats-server with a small max_payload (so activations and parameters are chunked and acked) and
// mixed codecs; the server's byte ledger must equal the plan per round, kind and direction
// (ledger-compare.ts; the text-model twin is plan-vs-runtime-text.test.ts).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import type { RunConfig } from "@sfprompt/api";
import { readPartitionManifest } from "@sfprompt/engine";
import { trafficShapesOfManifest, trafficShapesOfModel, type TrafficShapes } from "@sfprompt/core";
import { fashionSubsets, tinyBundle, type BundleFixture } from "../runtime/bundle-fixture.js";
import { jobConfig } from "../runtime/job-fixture.js";
import { assertPlanMatchesLedger, runTrafficJob } from "./ledger-compare.js";

const MAX_PAYLOAD = 8192;

let nats: TestNats;
let nc: NatsConnection;
let bundle: BundleFixture;
let shapes: TrafficShapes;

before(async () => {
  nats = await startNatsServer({ maxPayload: MAX_PAYLOAD });
  nc = await connect({ servers: nats.url });
  bundle = tinyBundle({ headBlocks: 1, promptLength: 4 });
  // the CLI's path: split the source model as the job says (tinyBundle's options)
  shapes = trafficShapesOfModel(bundle.model, { headBlocks: 1, promptLength: 4, numClasses: 10, seed: 3 });
});

test("the shapes of the split model are the prepared bundle's shapes", () => {
  const manifest = readPartitionManifest(bundle.dir);
  assert.deepEqual(trafficShapesOfManifest(manifest, shapes.wholeModel), shapes);
  assert.deepEqual(shapes.headOutput.shape, [21, 24], "CLS + 16 patches + 4 prompt tokens, width 24");
  assert.deepEqual(shapes.bodyOutput.shape, [24], "the pooled vector");
  assert.deepEqual(shapes.bodyMasks, [], "an image model's body reads only a_h");
});
after(async () => {
  await nc.close();
  await nats.stop();
  bundle.remove();
});

function config(method: string): RunConfig {
  return jobConfig({
    method,
    clients: { count: 2, perRound: { count: 2 } },
    training: { rounds: 2, quorum: { count: 2 }, evaluation: { everyRounds: 0 } },
    transport: { maxPayload: MAX_PAYLOAD },
    compression: { activationsUp: "f16", gradientsUp: "bf16", gradientsDown: "int8", parametersUp: "f16" },
  });
}

const cases = [
  { method: "sfprompt", name: "SFPrompt (local loss, EL2N pruning, prompt gradient over the network)" },
  { method: "sfl-prompt", name: "SFL + prompt (every sample through the body, both directions)" },
  { method: "fl-prompt", name: "FL + prompt (only prompt + tail cross the network)" },
  { method: "fl-full", name: "FL full fine-tuning (every weight, chunked, both ways)" },
];

for (const { method, name } of cases) {
  test(`the planned bytes of ${name} are the bytes the server counted, per round, kind and direction`, async () => {
    const c = config(method);
    // 80 samples: 40 per client, so SFPrompt keeps 20 (a batch of 16 and one of 4) and SFL + prompt
    // sends 16 + 16 + 8: full and partial batches, chunked and not
    const { train } = await fashionSubsets(8);
    const run = await runTrafficJob(c, { nc, bundle: bundle.dir, model: bundle.model, train });
    assertPlanMatchesLedger(c, shapes, run, MAX_PAYLOAD);
  });
}
