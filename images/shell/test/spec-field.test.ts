// specFieldOf against the real toRunConfig: every run-config field the operator renders from a job
// (one with every optional section set) is named by a job field that holds it, and only what the
// operator derives is named by none.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyDefaults, toRunConfig } from "@sfprompt/api";
import { specFieldOf } from "../src/spec-field.js";

const job = applyDefaults({
  apiVersion: "sfprompt.io/v1alpha1",
  kind: "SFPromptJob",
  metadata: { name: "every-field", namespace: "test", uid: "u-1" },
  spec: {
    method: "sfprompt",
    model: {
      source: { path: "/models/bert.onnx" },
      tokenizer: { vocabulary: "/models/vocab.txt", maxLength: 16 },
    },
    prompts: { length: 4 },
    classes: { numClasses: 2, labels: ["a", "b"] },
    clients: { count: 4, perRound: { fraction: 0.5 } },
    data: {
      source: { jsonl: { path: "/data/train.jsonl" } },
      evalSource: { jsonl: { path: "/data/test.jsonl" } },
      partitioning: { strategy: "iid", seed: 1 },
    },
    training: { rounds: 3, quorum: { fraction: 1 } },
    transport: { url: "nats://nats:4222" },
    output: { bucket: "my-bucket", resumeFrom: { job: "earlier", bucket: "earlier-bucket" } },
  },
});
const config = toRunConfig(job);

function leaves(value: unknown, at: string[] = []): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [at.join(".")];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, [...at, k]));
}

function get(value: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
}

/** Fields toRunConfig resolves (a count from a fraction, a token from a name): not copied as they are. */
const RESOLVED = new Set([
  "clients.perRound",
  "training.quorum",
  "transport.bundled",
  "output.resumeFrom.token",
]);
/** What the operator derives; no job field holds it. */
const DERIVED = /^(apiVersion|kind|names\..*|effective\..*)$/;

test("every run-config field made from the job names a job field that holds it", () => {
  const paths = leaves(config);
  assert.ok(paths.length > 40, `${paths.length} fields`);
  for (const path of paths) {
    const field = specFieldOf(path);
    if (DERIVED.test(path)) {
      assert.equal(field, undefined, path);
      continue;
    }
    assert.ok(field !== undefined, `${path} names no job field`);
    assert.notEqual(get(job, field), undefined, `${path}: ${field} is not in the job`);
    if (!RESOLVED.has(path)) assert.deepEqual(get(config, path), get(job, field), `${path}: ${field}`);
  }
});

test("paths that are no run-config field name none", () => {
  for (const path of ["(file)", "(root)", "extra", "spec.clients.count"])
    assert.equal(specFieldOf(path), undefined, path);
});
