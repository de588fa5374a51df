// The defaults a job gets when the user leaves fields out: the method notes' choices
// (../shared/reference/sfprompt-method.md) and the ones docs/adr records where the paper is silent.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyDefaults, JobValidationError, parseSpec } from "../src/index.js";
import { jobWith } from "./helpers/builders.js";

describe("defaults", () => {
  const spec = applyDefaults(jobWith({})).spec;
  const table: [string, unknown, unknown][] = [
    ["the method is sfprompt", spec.method, "sfprompt"],
    ["the head is the embeddings plus one block", spec.model.split.headBlocks, 1],
    ["the tail pools the CLS token", spec.model.split.pooling, "cls"],
    ["there are 10 prompt tokens", spec.prompts.length, 10],
    ["prompts start xavier-uniform", spec.prompts.init, "xavier-uniform"],
    ["prompts learn from both losses", spec.prompts.promptGradient, "full"],
    ["gamma prunes half the samples", spec.training.pruning.gamma, 0.5],
    ["pruning rescored every round", spec.training.pruning.rescoreEvery, 1],
    ["one local-loss epoch per round", spec.training.localEpochs, 1],
    ["one split epoch per round", spec.training.splitEpochs, 1],
    ["the optimizer is SGD", spec.training.optimizer.name, "sgd"],
    ["SGD momentum is 0.9", spec.training.optimizer.momentum, 0.9],
    ["aggregation is FedAvg", spec.training.aggregation.algorithm, "fedavg"],
    ["the local loss is on", spec.training.localLoss.enabled, true],
    ["every client trains each round", spec.clients.perRound, { fraction: 1 }],
    ["half the selection is a quorum", spec.training.quorum, { fraction: 0.5 }],
    ["tensors travel as f32", new Set(Object.values(spec.compression)), new Set(["f32"])],
    [
      "the server asks for CUDA and falls back",
      [spec.server.executionProvider, spec.server.cpuFallback],
      ["cuda", true],
    ],
    ["the job resumes from checkpoints", spec.output.resume, true],
    ["the job is not suspended", spec.suspend, false],
  ];
  for (const [name, actual, expected] of table) {
    it(`${name}`, () => assert.deepEqual(actual, expected));
  }

  it("keeps what the user set beside the defaults of the same object", () => {
    const s = applyDefaults(jobWith({ training: { optimizer: { name: "adam" } } })).spec;
    assert.equal(s.training.optimizer.name, "adam");
    assert.equal(s.training.optimizer.beta2, 0.999);
    assert.equal(s.training.rounds, 10);
  });

  it("is idempotent: defaulting a defaulted job changes nothing", () => {
    const once = applyDefaults(jobWith({ clients: { count: 3 } }));
    assert.deepEqual(applyDefaults(structuredClone(once)), once);
  });

  it("throws a JobValidationError that lists each bad field", () => {
    const bad = jobWith({ training: { rounds: 0, batchSize: 0 } });
    assert.throws(
      () => applyDefaults(bad),
      (e: unknown) =>
        e instanceof JobValidationError &&
        e.errors.map((x) => x.path).join(",") === "spec.training.rounds,spec.training.batchSize" &&
        e.message.includes("spec.training.batchSize: must be ≥ 1 (got 0)"),
    );
  });

  it("parses a bare spec with paths under spec.", () => {
    const r = parseSpec({ prompts: { length: 0 } });
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.errors, [{ path: "spec.prompts.length", message: "must be ≥ 1 (got 0)" }]);
  });
});
