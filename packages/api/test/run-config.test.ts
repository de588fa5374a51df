// The run config derived from a job: counts resolved, methods turned into switches, NATS names
// deterministic and token-safe, and the result valid against its own schema.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults, jobToken, RunConfigSchema, toRunConfig, type RunConfig } from "../src/index.js";
import { jobWith, type Json } from "./helpers/builders.js";

function config(spec: Json, metadata?: Json): RunConfig {
  return toRunConfig(applyDefaults(jobWith(spec, metadata)));
}

describe("toRunConfig", () => {
  const counts: { name: string; spec: Json; perRound: number; quorum: number }[] = [
    { name: "all of 4 clients, half of them a quorum", spec: {}, perRound: 4, quorum: 2 },
    {
      name: "a fraction rounds up",
      spec: { clients: { count: 5, perRound: { fraction: 0.5 } } },
      perRound: 3,
      quorum: 2,
    },
    {
      name: "a tiny fraction still selects one",
      spec: { clients: { count: 3, perRound: { fraction: 0.01 } } },
      perRound: 1,
      quorum: 1,
    },
    {
      name: "counts are taken as given",
      spec: { clients: { count: 10, perRound: { count: 6 } }, training: { quorum: { count: 5 } } },
      perRound: 6,
      quorum: 5,
    },
    {
      name: "a full quorum waits for every selected client",
      spec: { clients: { count: 8, perRound: { fraction: 0.25 } }, training: { quorum: { fraction: 1 } } },
      perRound: 2,
      quorum: 2,
    },
  ];
  for (const c of counts) {
    it(`resolves ${c.name}`, () => {
      const rc = config(c.spec);
      assert.equal(rc.clients.perRound, c.perRound);
      assert.equal(rc.training.quorum, c.quorum);
    });
  }

  const methods: {
    method: string;
    split: boolean;
    whole: boolean;
    all: boolean;
    federated: boolean;
    extras: boolean;
  }[] = [
    { method: "sfprompt", split: true, whole: false, all: false, federated: true, extras: true },
    { method: "sfl-prompt", split: true, whole: false, all: false, federated: true, extras: false },
    { method: "fl-prompt", split: false, whole: true, all: false, federated: true, extras: false },
    { method: "fl-full", split: false, whole: true, all: true, federated: true, extras: false },
    { method: "centralized", split: false, whole: true, all: false, federated: false, extras: false },
  ];
  for (const m of methods) {
    it(`turns method ${m.method} into its switches`, () => {
      const e = config({ method: m.method }).effective;
      assert.deepEqual(
        [e.splitTraining, e.clientRunsWholeModel, e.trainAllWeights, e.federated, e.localLoss, e.pruning],
        [m.split, m.whole, m.all, m.federated, m.extras, m.extras],
      );
    });
  }

  it("lets sfprompt switch off pruning and the local loss separately", () => {
    const e = config({ training: { pruning: { enabled: false } } }).effective;
    assert.deepEqual([e.pruning, e.localLoss], [false, true]);
  });

  it("gives fl-full its own learning rate when the job sets one, and every other method the optimizer's", () => {
    const optimizer = { name: "adam", learningRate: 0.03, fullFineTuningLearningRate: 0.0001 };
    const rates = ["sfprompt", "sfl-prompt", "fl-prompt", "fl-full", "centralized"].map(
      (method) => config({ method, training: { optimizer } }).training.optimizer.learningRate,
    );
    assert.deepEqual(rates, [0.03, 0.03, 0.03, 0.0001, 0.03]);
    const unset = config({ method: "fl-full", training: { optimizer: { learningRate: 0.03 } } });
    assert.equal(unset.training.optimizer.learningRate, 0.03);
  });

  it("sends no gradients when prompts learn from the local loss only", () => {
    assert.equal(
      config({ prompts: { promptGradient: "local-only" } }).effective.promptGradientOverNetwork,
      false,
    );
    assert.equal(config({}).effective.promptGradientOverNetwork, true);
  });

  it("names the job's NATS resources from namespace and name", () => {
    const rc = config({}, { name: "vit.b16", namespace: "edge", uid: "u-1", generation: 3 });
    assert.deepEqual(rc.job, { name: "vit.b16", namespace: "edge", uid: "u-1" });
    assert.deepEqual(rc.names, {
      job: "edge_vit_b16",
      subjectPrefix: "sfp.edge_vit_b16",
      bucket: "sfp-edge_vit_b16-artifacts",
    });
  });

  it("is the same for two generations of the same spec, and reads a config that still records one", () => {
    const meta = (generation: number): Json => ({ name: "a", namespace: "edge", uid: "u-1", generation });
    const [g1, g7] = [config({}, meta(1)), config({}, meta(7))];
    assert.deepEqual(g7, g1);
    assert.equal("generation" in g7.job, false);
    const older = { ...g1, job: { ...g1.job, generation: 4 } };
    assert.equal(RunConfigSchema.safeParse(older).success, true);
  });

  it("uses the default namespace and the spec's bucket when given", () => {
    const rc = config({ output: { bucket: "shared-artifacts" } }, { name: "demo" });
    assert.equal(rc.job.namespace, "default");
    assert.equal(rc.names.bucket, "shared-artifacts");
    assert.equal(rc.output.bucket, "shared-artifacts");
  });

  it("names resumeFrom's job by its token and bucket, computed as that job names its own", () => {
    const meta = { name: "retry", namespace: "edge" };
    const source = config({}, { name: "vit.b16", namespace: "edge" }).names;
    assert.deepEqual(config({ output: { resumeFrom: { job: "vit.b16" } } }, meta).output.resumeFrom, {
      job: "vit.b16",
      token: source.job,
      bucket: source.bucket,
    });
    const own = config({ output: { bucket: "kept" } }, { name: "vit.b16", namespace: "edge" }).names;
    const given = config({ output: { resumeFrom: { job: "vit.b16", bucket: "kept" } } }, meta);
    assert.deepEqual(given.output.resumeFrom, { job: "vit.b16", token: own.job, bucket: own.bucket });
    assert.equal(config({}, meta).output.resumeFrom, undefined);
  });

  it("marks the transport bundled unless a URL is given", () => {
    assert.equal(config({}).transport.bundled, true);
    const rc = config({ transport: { url: "nats://n:4222" } });
    assert.deepEqual([rc.transport.bundled, rc.transport.url], [false, "nats://n:4222"]);
  });

  it("keeps job tokens unique and at most 64 characters for long names", () => {
    const long = "a".repeat(120);
    const t1 = jobToken("team-a", long);
    const t2 = jobToken("team-a", `${long}b`);
    assert.equal(t1.length, 64);
    assert.match(t1, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(t1, t2);
    assert.notEqual(jobToken("a-b", "c"), jobToken("a", "b-c"));
  });

  it("is pure: the same job gives the same config, and the config survives JSON and its schema", () => {
    const job = applyDefaults(jobWith({ clients: { count: 6 } }));
    const rc = toRunConfig(job);
    assert.deepEqual(toRunConfig(structuredClone(job)), rc);
    assert.deepEqual(RunConfigSchema.parse(JSON.parse(JSON.stringify(rc))), rc);
  });
});
