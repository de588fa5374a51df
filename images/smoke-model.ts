// Writes what the local image smoke test (build-local.sh --smoke) mounts into the server container:
// an untrained demo ViT (no pre-training: the smoke test checks the process, not the model) and the
// run config of a small job. Usage: node --conditions=source --import tsx images/smoke-model.ts DIR
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyDefaults, toRunConfig } from "@sfprompt/api";
import { DEMO_RECIPE, buildDemoVit } from "@sfprompt/core";
import { writeModel } from "@sfprompt/engine";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: smoke-model.ts DIR");
mkdirSync(dir, { recursive: true });
writeModel(join(dir, "model.onnx"), buildDemoVit(DEMO_RECIPE.architecture, 1).model);
const job = applyDefaults({
  apiVersion: "sfprompt.io/v1alpha1",
  kind: "SFPromptJob",
  metadata: { name: "smoke", namespace: "default" },
  spec: {
    model: { source: { path: "/smoke/model.onnx" } },
    data: { source: { builtin: "mnist" }, partitioning: { samplesPerClient: 64 } },
    clients: { count: 2 },
    server: { executionProvider: "cpu" },
    training: { rounds: 1, batchSize: 16, evaluation: { maxSamples: 100 } },
  },
});
writeFileSync(join(dir, "run-config.json"), `${JSON.stringify(toRunConfig(job), null, 2)}\n`);
console.log(`wrote ${join(dir, "model.onnx")} and ${join(dir, "run-config.json")}`);
