// Valid specs: zod accepts them and keeps what the user wrote, and the generated CRD accepts them too,
// with the API server's defaulting giving exactly the spec zod's defaults give.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseJob, specJsonSchema, type SFPromptJob } from "../src/index.js";
import { jobWith, type Json } from "./helpers/builders.js";
import { applyDefaults, celErrors, validate } from "./helpers/openapi.js";

interface Case {
  name: string;
  spec: Json;
  check: (job: SFPromptJob) => void;
}

const cases: Case[] = [
  {
    name: "an empty spec (the demo)",
    spec: {},
    check: (j) => assert.deepEqual(j.spec.model.source, { builtin: "demo" }),
  },
  {
    name: "a model on a PVC cut at explicit tensors",
    spec: {
      model: {
        source: { persistentVolumeClaim: { claimName: "models", path: "vit-b16.onnx" } },
        split: { cutTensors: { head: "/blocks.0/Add_1_output_0", body: "/blocks.11/Add_1_output_0" } },
      },
    },
    check: (j) => assert.equal(j.spec.model.split.cutTensors?.body, "/blocks.11/Add_1_output_0"),
  },
  {
    name: "a model in a ConfigMap",
    spec: { model: { source: { configMap: { name: "tiny-model", key: "model.onnx" } } } },
    check: (j) => assert.equal(j.spec.model.source.configMap?.key, "model.onnx"),
  },
  {
    name: "Dirichlet partitioning with a per-client cap",
    spec: {
      data: {
        source: { builtin: "fashion-mnist" },
        partitioning: { strategy: "dirichlet", alpha: 0.1, seed: 7, samplesPerClient: 500 },
      },
    },
    check: (j) =>
      assert.deepEqual(j.spec.data.partitioning, {
        strategy: "dirichlet",
        alpha: 0.1,
        seed: 7,
        samplesPerClient: 500,
      }),
  },
  {
    name: "a counted selection and quorum",
    spec: { clients: { count: 8, perRound: { count: 4 } }, training: { quorum: { count: 3 } } },
    check: (j) => assert.deepEqual(j.spec.training.quorum, { count: 3 }),
  },
  {
    name: "a head without blocks pooled by mean",
    spec: { model: { split: { headBlocks: 0, pooling: "mean" } } },
    check: (j) => assert.equal(j.spec.model.split.pooling, "mean"),
  },
  {
    name: "a head without blocks pooled by CLS when the local loss is off",
    spec: { model: { split: { headBlocks: 0 } }, training: { localLoss: { enabled: false } } },
    check: (j) => assert.equal(j.spec.training.localLoss.enabled, false),
  },
  {
    name: "a head without blocks pooled by CLS for the sfl-prompt baseline",
    spec: { method: "sfl-prompt", model: { split: { headBlocks: 0 } } },
    check: (j) => assert.equal(j.spec.method, "sfl-prompt"),
  },
  {
    name: "JSONL data with a held-out JSONL file",
    spec: {
      data: {
        source: { jsonl: { path: "/data/train.jsonl", labelField: "y" } },
        evalSource: { jsonl: { path: "/data/test.jsonl" } },
        partitioning: { strategy: "none" },
      },
    },
    check: (j) =>
      assert.deepEqual(j.spec.data.source.jsonl, {
        path: "/data/train.jsonl",
        labelField: "y",
      }),
  },
  {
    name: "an image folder without evaluation",
    spec: {
      data: { source: { imageFolder: { path: "/data/images" } } },
      training: { evaluation: { everyRounds: 0 } },
    },
    check: (j) => assert.equal(j.spec.training.evaluation.everyRounds, 0),
  },
  {
    name: "a GPU server with tolerations and quantities as integers and strings",
    spec: {
      server: {
        gpus: 1,
        nodeSelector: { "nvidia.com/gpu.present": "true" },
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        resources: { requests: { cpu: 2, memory: "8Gi" }, limits: { "nvidia.com/gpu": 1, memory: "16Gi" } },
      },
      clients: { spreadOnePerNode: true, resources: { requests: { cpu: "250m" } } },
    },
    check: (j) => assert.equal(j.spec.server.resources?.requests?.cpu, 2),
  },
  {
    name: "class labels for every class",
    spec: { classes: { numClasses: 3, labels: ["cat", "dog", "bird"] } },
    check: (j) => assert.deepEqual(j.spec.classes.labels, ["cat", "dog", "bird"]),
  },
  {
    name: "an external NATS with credentials, int8 activations and a deadline",
    spec: {
      transport: { url: "nats://nats.messaging:4222", credentialsSecret: "nats-creds", maxPayload: 8388608 },
      compression: { activationsUp: "int8", gradientsUp: "f16" },
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 600,
      suspend: true,
    },
    check: (j) => assert.equal(j.spec.compression.activationsUp, "int8"),
  },
];

describe("valid specs", () => {
  const schema = specJsonSchema();
  for (const c of cases) {
    it(`accepts ${c.name}`, () => {
      const r = parseJob(jobWith(c.spec));
      assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.errors));
      c.check(r.value);
    });
    it(`the CRD accepts ${c.name} and defaults it as zod does`, () => {
      const r = parseJob(jobWith(c.spec));
      assert.ok(r.ok);
      const defaulted = applyDefaults(schema, c.spec);
      assert.deepEqual(validate(schema, defaulted), []);
      assert.deepEqual(celErrors(schema, defaulted), []);
      assert.deepEqual(defaulted, r.value.spec);
    });
  }
});

describe("immutable fields", () => {
  const schema = specJsonSchema();
  const base = applyDefaults(schema, {}) as Json;
  const changes: { name: string; field: (s: Json) => void; immutable: boolean }[] = [
    {
      name: "the model source",
      field: (s) => ((s.model as Json).source = { path: "/m.onnx" }),
      immutable: true,
    },
    { name: "the method", field: (s) => (s.method = "fl-full"), immutable: true },
    { name: "the prompt length", field: (s) => ((s.prompts as Json).length = 20), immutable: true },
    { name: "the number of classes", field: (s) => ((s.classes as Json).numClasses = 5), immutable: true },
    { name: "the dataset", field: (s) => ((s.data as Json).source = { builtin: "digits" }), immutable: true },
    { name: "the client count", field: (s) => ((s.clients as Json).count = 6), immutable: true },
    { name: "the rounds", field: (s) => ((s.training as Json).rounds = 20), immutable: false },
    { name: "suspend", field: (s) => (s.suspend = true), immutable: false },
    {
      name: "the server's node selector",
      field: (s) => ((s.server as Json).nodeSelector = { gpu: "yes" }),
      immutable: false,
    },
  ];
  for (const c of changes) {
    it(`${c.immutable ? "refuses" : "allows"} a change of ${c.name} on update`, () => {
      const next = structuredClone(base);
      c.field(next);
      const errs = celErrors(schema, next, base);
      if (c.immutable)
        assert.ok(
          errs.some((e) => e.includes("is immutable")),
          `no immutability error: ${errs.join("; ")}`,
        );
      else assert.deepEqual(errs, []);
    });
  }
});
