// The generated CRD in a real kube-apiserver (envtest style, from packages/kube-testing): it installs,
// `kubectl explain` shows our descriptions, the server's defaulting gives zod's defaults, it refuses
// the invalid specs at the field zod names, and it enforces immutability and the printer columns.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { kubectl, startControlPlane, waitFor, waitForCrd, type ControlPlane } from "@sfprompt/kube-testing";
import { CRD_NAME, CRD_PATH, parseJob } from "../src/index.js";
import { jobWith, type Json } from "./helpers/builders.js";
import { invalidCases, validCases } from "./helpers/cases.js";
import { outputEdits, outputMergePatch } from "./helpers/output-edits.js";

const root = new URL("../../../", import.meta.url).pathname;
let cp: ControlPlane;

function k(args: string[], input?: string): ReturnType<typeof kubectl> {
  return kubectl(args, cp.kubeconfigPath, { allowFailure: true, ...(input === undefined ? {} : { input }) });
}

function named(job: Json, name: string): Json {
  return { ...job, metadata: { name, namespace: "default" } };
}

before(async () => {
  cp = await startControlPlane();
  // kubectl, not a typed client: a typed serializer can drop the x-kubernetes-* extensions.
  await kubectl(["apply", "--server-side", "-f", root + CRD_PATH], cp.kubeconfigPath);
  // Established is not enough for `kubectl explain`: the API server publishes the kind's OpenAPI v3
  // schema and its discovery entry asynchronously, a moment later (the flake this wait fixes).
  await waitForCrd(cp.kubeConfig, CRD_NAME, { timeoutMs: 60_000 });
  await waitFor(async () => (await k(["explain", "sfpromptjob"])).code === 0, {
    timeoutMs: 30_000,
    intervalMs: 250,
    description: "kubectl explain sfpromptjob to find the kind",
  });
});

after(async () => {
  await cp?.stop();
});

describe("the CRD in a real API server", () => {
  it("stores every CEL rule it was given", async () => {
    const r = await k(["get", "crd", CRD_NAME, "-o", "json"]);
    const text = r.stdout;
    const file = readFileSync(root + CRD_PATH, "utf8");
    assert.equal(
      (text.match(/"x-kubernetes-validations"/g) ?? []).length,
      (file.match(/x-kubernetes-validations:/g) ?? []).length,
    );
  });

  it("explains fields with the schema's descriptions", async () => {
    const r = await k(["explain", "sfpromptjob.spec.training.quorum"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Set exactly one of count or\s+fraction/);
    assert.match(r.stdout, /fraction\s+<number>/);
  });

  validCases.forEach((c, i) => {
    it(`accepts ${c.name} and defaults it exactly as zod does`, async () => {
      const job = named(jobWith(c.spec), `valid-${i}`);
      const r = await k(["create", "-f", "-", "-o", "json"], JSON.stringify(job));
      assert.equal(r.code, 0, r.stderr);
      const parsed = parseJob(job);
      assert.ok(parsed.ok);
      assert.deepEqual((JSON.parse(r.stdout) as { spec: unknown }).spec, parsed.value.spec);
    });
  });

  invalidCases
    .filter((c) => c.crd)
    .forEach((c, i) => {
      it(`refuses ${c.name} at ${c.path}`, async () => {
        const r = await k(["create", "-f", "-"], JSON.stringify(named(c.job, `invalid-${i}`)));
        assert.notEqual(r.code, 0, `the API server accepted it: ${r.stdout}`);
        assert.ok(r.stderr.includes(`${c.path}:`), r.stderr);
      });
    });

  const patches: { name: string; patch: Json; immutable: boolean }[] = [
    {
      name: "the model source",
      patch: { model: { source: { builtin: null, path: "/m.onnx" } } },
      immutable: true,
    },
    { name: "the client count", patch: { clients: { count: 6 } }, immutable: true },
    { name: "the method", patch: { method: "fl-full" }, immutable: true },
    { name: "the rounds", patch: { training: { rounds: 20 } }, immutable: false },
    { name: "suspend", patch: { suspend: true }, immutable: false },
  ];
  patches.forEach((p, i) => {
    it(`${p.immutable ? "refuses" : "allows"} changing ${p.name} of an existing job`, async () => {
      const name = `patch-${i}`;
      await kubectl(["create", "-f", "-"], cp.kubeconfigPath, {
        input: JSON.stringify(named(jobWith({}), name)),
      });
      const r = await k(["patch", "sfpj", name, "--type=merge", "-p", JSON.stringify({ spec: p.patch })]);
      if (p.immutable) {
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /field is immutable/);
      } else assert.equal(r.code, 0, r.stderr);
    });
  });

  outputEdits.forEach((e, i) => {
    it(`${e.refused ? "refuses" : "allows"} ${e.name}`, async () => {
      const name = `output-${i}`;
      await kubectl(["create", "-f", "-"], cp.kubeconfigPath, {
        input: JSON.stringify(named(jobWith({ output: e.old }), name)),
      });
      const patch = JSON.stringify({ spec: outputMergePatch(e) });
      const r = await k(["patch", "sfpj", name, "--type=merge", "-p", patch]);
      const stored = await k(["get", "sfpj", name, "-o", "jsonpath={.spec.output.bucket}"]);
      if (e.refused) {
        assert.notEqual(r.code, 0, `the API server accepted it: ${r.stdout}`);
        assert.match(r.stderr, /spec\.output\.bucket: Forbidden: field is immutable/);
        assert.match(r.stderr, /create a new job/);
        assert.equal(stored.stdout, String(e.old.bucket ?? ""), "the stored bucket is unchanged");
      } else {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(stored.stdout, String(e.next.bucket ?? ""));
      }
    });
  });

  it("shows phase, round, accuracy, bytes and method as printer columns", async () => {
    await kubectl(["create", "-f", "-"], cp.kubeconfigPath, {
      input: JSON.stringify(named(jobWith({}), "columns")),
    });
    const status = {
      phase: "Running",
      progress: "3/10",
      metrics: { accuracy: 0.87 },
      communication: { total: 1234, totalHuman: "1.2 KiB" },
    };
    const p = await k([
      "patch",
      "sfpj",
      "columns",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
    assert.equal(p.code, 0, p.stderr);
    const r = await k(["get", "sfpj", "columns", "-o", "wide", "--no-headers"]);
    assert.deepEqual(r.stdout.trim().split(/\s+/).slice(0, 6), [
      "columns",
      "Running",
      "3/10",
      "0.87",
      "1.2",
      "KiB",
    ]);
  });
});
