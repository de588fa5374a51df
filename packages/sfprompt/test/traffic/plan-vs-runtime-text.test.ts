// The traffic planner on a text (BERT-family) job: the engine's HuggingFace BERT export split at the
// job's sequence length, the built-in debian-sections texts through a small WordPiece vocabulary, run
// by the real runtime on a real nats-server (small max_payload, mixed codecs) under every networked
// method. Every body.fwd carries the attention mask (int64, raw) beside a_h; the server's ledger must
// equal the plan per round, kind and direction (ledger-compare.ts).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import type { RunConfig } from "@sfprompt/api";
import { prepareBundle, readModel, readPartitionManifest, type Model } from "@sfprompt/engine";
import {
  TrafficPlanError,
  jobTextEncoding,
  loadJobSource,
  planMethodTraffic,
  textBundleConfig,
  trafficShapesOfManifest,
  trafficShapesOfModel,
  type Dataset,
  type TrafficShapes,
} from "@sfprompt/core";
import { jobConfig } from "../runtime/job-fixture.js";
import { assertPlanMatchesLedger, runTrafficJob } from "./ledger-compare.js";
import { BERT_FIXTURE as BERT, letterVocab } from "../runtime/text-fixture.js";

const MAX_PAYLOAD = 8192;
const SEQ = 12;
const PROMPTS = 4;
const SPLIT = { headBlocks: 1, promptLength: PROMPTS, pooling: "mean", numClasses: 10, seed: 3 } as const;

let dir: string;
let vocab: string;
let nats: TestNats;
let nc: NatsConnection;
let model: Model;
let shapes: TrafficShapes;
let train: Dataset;

function config(method: string): RunConfig {
  return jobConfig({
    method,
    model: {
      source: { path: BERT },
      split: { headBlocks: 1, pooling: "mean" },
      tokenizer: { vocabulary: vocab, maxLength: SEQ },
    },
    prompts: { length: PROMPTS },
    classes: { numClasses: 10 },
    data: {
      source: { builtin: "debian-sections" },
      partitioning: { strategy: "iid", seed: 1, samplesPerClient: 40 },
    },
    clients: { count: 2, perRound: { count: 2 } },
    training: { rounds: 2, quorum: { count: 2 }, evaluation: { everyRounds: 0 } },
    transport: { maxPayload: MAX_PAYLOAD },
    compression: { activationsUp: "f16", gradientsUp: "bf16", gradientsDown: "int8", parametersUp: "f16" },
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sfprompt-traffic-text-"));
  vocab = join(dir, "vocab.txt");
  writeFileSync(vocab, `${letterVocab().join("\n")}\n`);
  prepareBundle({ model: BERT, out: join(dir, "bundle"), ...SPLIT });
  model = readModel(BERT);
  const c = config("sfprompt");
  // the CLI's path: split the source model as the job says, at the job's sequence length
  shapes = trafficShapesOfModel(model, SPLIT, textBundleConfig(c));
  const text = await jobTextEncoding(c);
  train = await loadJobSource(c, c.data.source, "train", "spec.data.source", { text: text! });
  nats = await startNatsServer({ maxPayload: MAX_PAYLOAD });
  nc = await connect({ servers: nats.url });
});
after(async () => {
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a text model's shapes are bound at the job's maxLength, with the attention mask beside a_h, as the bundle has them", () => {
  assert.deepEqual(shapes.headOutput.shape, [SEQ + PROMPTS, 32], "tokens + prompts, width 32");
  assert.deepEqual(shapes.bodyOutput.shape, [32], "the mean-pooled vector");
  assert.deepEqual(shapes.bodyMasks, [{ name: "attention_mask", shape: [SEQ] }]);
  const manifest = readPartitionManifest(join(dir, "bundle"));
  const fromManifest = trafficShapesOfManifest(manifest, shapes.wholeModel, { sequenceLength: SEQ });
  assert.deepEqual(fromManifest, shapes);
  assert.throws(
    () => trafficShapesOfModel(model, SPLIT),
    (e: unknown) =>
      e instanceof TrafficPlanError &&
      e.field === "model input input_ids" &&
      /symbolic axis "sequence".*spec\.model\.tokenizer/.test(e.message),
  );
});

test("the mask adds 8 bytes per token and one header entry to each body forward, and nothing to FL + prompt", () => {
  const imageLike: TrafficShapes = { ...shapes, bodyMasks: [] };
  const samples = [40, 37];
  const bytes = (c: RunConfig, s: TrafficShapes): number =>
    planMethodTraffic({ config: c, shapes: s, samplesPerClient: samples, maxPayload: 1 << 24 }).total;
  for (const method of ["sfprompt", "sfl-prompt"]) {
    const c = config(method);
    const plan = planMethodTraffic({ config: c, shapes, samplesPerClient: samples, maxPayload: 1 << 24 });
    const forwards = plan.rounds.reduce((n, r) => n + r.byKind.activation.upMessages, 0);
    const kept = plan.rounds.reduce((n, r) => n + r.kept, 0) * c.training.splitEpochs;
    // header entry (header-binary.ts): u8 name length + name, u8 dtype, u8 codec, u8 rank, rank·u32, u32 bytes
    const entry = 1 + "attention_mask".length + 3 + 2 * 4 + 4;
    assert.equal(bytes(c, shapes) - bytes(c, imageLike), forwards * entry + kept * SEQ * 8, method);
  }
  assert.equal(bytes(config("fl-prompt"), shapes), bytes(config("fl-prompt"), imageLike));
});

const cases = [
  { method: "sfprompt", name: "SFPrompt (local loss, EL2N pruning, prompt gradient over the network)" },
  { method: "sfl-prompt", name: "SFL + prompt (every sample through the body, both directions)" },
  { method: "fl-prompt", name: "FL + prompt (only prompt + tail cross the network)" },
  { method: "fl-full", name: "FL full fine-tuning (every BERT weight, chunked, both ways)" },
];

for (const { method, name } of cases) {
  test(`text job: the planned bytes of ${name} are the bytes the server counted, per round, kind and direction`, async () => {
    const c = config(method);
    const run = await runTrafficJob(c, { nc, bundle: join(dir, "bundle"), model, train });
    assert.deepEqual(run.samples, [40, 40], "40 texts per client");
    assertPlanMatchesLedger(c, shapes, run, MAX_PAYLOAD);
  });
}
