// Invalid specs: zod names the field and says what to do, and the generated CRD (schema + CEL, after
// the API server's defaulting) rejects the same specs wherever a CRD can.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseJob, specJsonSchema } from "../src/index.js";
import { jobWith, type Json } from "./helpers/builders.js";
import { applyDefaults, celErrors, validate } from "./helpers/openapi.js";

interface Case {
  name: string;
  job: Json;
  path: string;
  message: string;
  /** false where only the webhook can tell (unknown fields are pruned; metadata is the server's). */
  crd: boolean;
}

const cases: Case[] = [
  {
    name: "zero rounds",
    job: jobWith({ training: { rounds: 0 } }),
    path: "spec.training.rounds",
    message: "must be ≥ 1 (got 0)",
    crd: true,
  },
  {
    name: "a fractional number of rounds",
    job: jobWith({ training: { rounds: 2.5 } }),
    path: "spec.training.rounds",
    message: "must be an integer (got 2.5)",
    crd: true,
  },
  {
    name: "an unknown optimizer",
    job: jobWith({ training: { optimizer: { name: "rmsprop" } } }),
    path: "spec.training.optimizer.name",
    message: 'must be one of sgd, adam (got "rmsprop")',
    crd: true,
  },
  {
    name: "a model with two sources",
    job: jobWith({ model: { source: { builtin: "demo", path: "/models/vit.onnx" } } }),
    path: "spec.model.source",
    message: "set exactly one of builtin, path, persistentVolumeClaim, configMap; found builtin and path",
    crd: true,
  },
  {
    name: "a model source with no member",
    job: jobWith({ model: { source: {} } }),
    path: "spec.model.source",
    message: "none is set",
    crd: true,
  },
  {
    name: "a misspelt field",
    job: jobWith({ clients: { cuont: 3 } }),
    path: "spec.clients.cuont",
    message: "is not a field here",
    crd: false,
  },
  {
    name: "more clients per round than clients",
    job: jobWith({ clients: { count: 4, perRound: { count: 5 } } }),
    path: "spec.clients.perRound.count",
    message: "is 5 but there are only 4 clients",
    crd: true,
  },
  {
    name: "a quorum above a counted selection",
    job: jobWith({ clients: { count: 8, perRound: { count: 4 } }, training: { quorum: { count: 5 } } }),
    path: "spec.training.quorum.count",
    message: "is 5 but only 4 clients are selected per round",
    crd: true,
  },
  {
    name: "a quorum above a fractional selection",
    job: jobWith({ clients: { count: 4, perRound: { fraction: 0.5 } }, training: { quorum: { count: 3 } } }),
    path: "spec.training.quorum.count",
    message: "only 2 clients are selected per round",
    crd: false,
  },
  {
    name: "a head without blocks pooled by CLS under the local loss",
    job: jobWith({ model: { split: { headBlocks: 0 } } }),
    path: "spec.model.split.pooling",
    message: "use pooling: mean or set training.localLoss.enabled: false",
    crd: true,
  },
  {
    name: "JSONL data without a held-out set",
    job: jobWith({ data: { source: { jsonl: { path: "/data/train.jsonl" } } } }),
    path: "spec.data.evalSource",
    message: "is required when the training data is a folder or JSONL file",
    crd: true,
  },
  {
    name: "fewer labels than classes",
    job: jobWith({ classes: { numClasses: 3, labels: ["cat", "dog"] } }),
    path: "spec.classes.labels",
    message: "has 2 entries but numClasses is 3",
    crd: true,
  },
  {
    name: "pruning everything",
    job: jobWith({ training: { pruning: { gamma: 1 } } }),
    path: "spec.training.pruning.gamma",
    message: "must be < 1 (got 1)",
    crd: true,
  },
  {
    name: "a zero selection fraction",
    job: jobWith({ clients: { perRound: { fraction: 0 } } }),
    path: "spec.clients.perRound.fraction",
    message: "must be > 0 (got 0)",
    crd: true,
  },
  {
    name: "an HTTP URL for NATS",
    job: jobWith({ transport: { url: "http://nats:4222" } }),
    path: "spec.transport.url",
    message: "must be a NATS URL such as nats://nats.example:4222",
    crd: true,
  },
  {
    name: "a resource quantity that is not one",
    job: jobWith({ server: { resources: { limits: { cpu: "lots" } } } }),
    path: "spec.server.resources.limits.cpu",
    message: "must be a Kubernetes quantity such as 500m or 2Gi",
    crd: true,
  },
  {
    name: "a toleration with an unknown effect",
    job: jobWith({ clients: { tolerations: [{ key: "edge", effect: "Evict" }] } }),
    path: "spec.clients.tolerations[0].effect",
    message: "must be one of NoSchedule, PreferNoSchedule, NoExecute",
    crd: true,
  },
  {
    name: "a PVC name with capitals",
    job: jobWith({ model: { source: { persistentVolumeClaim: { claimName: "Models", path: "vit.onnx" } } } }),
    path: "spec.model.source.persistentVolumeClaim.claimName",
    message: "must be a DNS-1123 subdomain",
    crd: true,
  },
  {
    name: "a Dirichlet alpha of zero",
    job: jobWith({ data: { partitioning: { strategy: "dirichlet", alpha: 0 } } }),
    path: "spec.data.partitioning.alpha",
    message: "must be > 0",
    crd: true,
  },
  {
    name: "an unknown method",
    job: jobWith({ method: "fedprox" }),
    path: "spec.method",
    message: "must be one of",
    crd: true,
  },
  {
    name: "a job name with capitals",
    job: jobWith({}, { name: "Demo" }),
    path: "metadata.name",
    message: "must be a DNS-1123 subdomain",
    crd: false,
  },
  {
    name: "the wrong apiVersion",
    job: { ...jobWith({}), apiVersion: "sfprompt.io/v1" },
    path: "apiVersion",
    message: "must be sfprompt.io/v1alpha1",
    crd: false,
  },
];

describe("invalid specs", () => {
  const schema = specJsonSchema();
  for (const c of cases) {
    it(`rejects ${c.name}, naming ${c.path}`, () => {
      const r = parseJob(c.job);
      assert.equal(r.ok, false, "zod accepted it");
      if (r.ok) return;
      const hit = r.errors.find((e) => e.path === c.path);
      assert.ok(hit, `no error at ${c.path}; got ${JSON.stringify(r.errors)}`);
      assert.ok(hit.message.includes(c.message), `message ${JSON.stringify(hit.message)} lacks ${c.message}`);
    });
    if (c.crd) {
      it(`the CRD also rejects ${c.name}`, () => {
        const spec = applyDefaults(schema, c.job.spec);
        const schemaErrors = validate(schema, spec);
        // CEL sees typed values, so it only runs on what passed the schema (as in the API server).
        const errs = schemaErrors.length > 0 ? schemaErrors : celErrors(schema, spec);
        assert.ok(errs.length > 0, "the CRD schema and its CEL rules accepted it");
        assert.ok(
          errs.every((e) => !e.includes("failed to evaluate")),
          `a CEL rule errored instead of failing: ${errs.join("; ")}`,
        );
      });
    }
  }
});
