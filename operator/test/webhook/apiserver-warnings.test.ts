// The webhook's admission warnings as a kubectl user meets them: the real kube-apiserver (generated
// CRD with its status subresource) sends them back as `Warning: 299` headers, kubectl prints each as
// `Warning: …` on stderr, and the edit is stored (ADR 0034 and 0040, amendments 2).
import assert from "node:assert/strict";
import { request, type RequestOptions } from "node:https";
import { after, before, describe, it } from "node:test";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, crdYaml } from "@sfprompt/api";
import { kubectl } from "@sfprompt/kube-testing";
import yaml from "js-yaml";
import { jobWith, type Json } from "../../../packages/api/test/helpers/builders.js";
import { patchStatusUnderOlderCrd } from "../status-under-older-crd.js";
import { startWebhookControlPlane, type WebhookControlPlane } from "./webhook-control-plane.js";

const NAMESPACE = "team-w";
let plane: WebhookControlPlane;

before(async () => {
  plane = await startWebhookControlPlane([NAMESPACE]);
  await plane.installCrd(crdYaml());
});
after(async () => {
  await plane?.stop();
});

const ref = (name: string) => ({
  group: GROUP,
  version: VERSION,
  plural: PLURAL,
  namespace: NAMESPACE,
  name,
});

/** Creates the job and writes `status` as the operator does (through /status). */
async function storedJob(name: string, status: Json, underOlderCrd = false): Promise<void> {
  const manifest = jobWith(
    { clients: { count: 2 }, training: { rounds: 4 } },
    { name, namespace: NAMESPACE },
  );
  await kubectl(["apply", "-f", "-"], plane.cp.kubeconfigPath, { input: yaml.dump(manifest) });
  if (underOlderCrd) {
    await patchStatusUnderOlderCrd(plane.cp.kubeconfigPath, { namespace: NAMESPACE, name }, status);
    return;
  }
  await plane.custom.patchNamespacedCustomObjectStatus(
    { ...ref(name), body: { status } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** `kubectl patch --type=merge` of the job's spec: the warnings kubectl printed, and the stored spec. */
async function kubectlEdit(name: string, spec: Json): Promise<{ warnings: string[]; stored: Json }> {
  const r = await kubectl(
    ["patch", "sfpromptjob", name, "-n", NAMESPACE, "--type=merge", "-p", JSON.stringify({ spec })],
    plane.cp.kubeconfigPath,
  );
  const warnings = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("Warning: "))
    .map((l) => l.slice("Warning: ".length));
  const stored = (await plane.custom.getNamespacedCustomObject(ref(name))) as { spec: Json };
  return { warnings, stored: stored.spec };
}

/** A merge patch of the job's spec over plain HTTPS: the response's Warning headers, as sent. */
async function rawWarningHeaders(name: string, spec: Json): Promise<string[]> {
  const server = new URL(plane.cp.kubeConfig.getCurrentCluster()!.server);
  const opts: RequestOptions = {
    method: "PATCH",
    hostname: server.hostname,
    port: server.port,
    path: `/apis/${GROUP}/${VERSION}/namespaces/${NAMESPACE}/${PLURAL}/${name}`,
    headers: { "Content-Type": "application/merge-patch+json" },
  };
  await plane.cp.kubeConfig.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      res.resume();
      res.once("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`PATCH ${name}: HTTP ${res.statusCode}`));
        const raw = res.rawHeaders.filter((_, i) => i % 2 === 1 && /^warning$/i.test(res.rawHeaders[i - 1]!));
        resolve(raw);
      });
    });
    req.once("error", reject);
    req.end(JSON.stringify({ spec }));
  });
}

const condition = (type: string, reason: string): Json => ({
  type,
  status: "True",
  reason,
  message: "done",
  lastTransitionTime: "2026-01-01T00:00:00Z",
});

describe("kubectl edits of a finished job", () => {
  before(async () => {
    await storedJob("done", {
      phase: "Succeeded",
      conditions: [condition("Succeeded", "TrainingCompleted")],
      lastCheckpoint: { round: 4, object: "checkpoints/round-000004" },
    });
  });
  it("prints that the edit is ignored, its fields, and the new job to create; the edit is stored", async () => {
    const { warnings, stored } = await kubectlEdit("done", {
      training: { rounds: 9 },
      clients: { nodeSelector: { zone: "b" } },
    });
    assert.deepEqual(warnings, [
      "this job has finished (Succeeded) and does not run again: this edit is ignored",
      "ignored fields: spec.clients.nodeSelector, spec.training.rounds",
      "to train with this edit, create a new job with spec.output.resumeFrom.job: done (from round 4)",
    ]);
    assert.equal((stored.training as { rounds: number }).rounds, 9);
  });
  it("reach a plain HTTP client as one `299` Warning header each", async () => {
    const headers = await rawWarningHeaders("done", {
      clients: { tolerations: [{ key: "k", operator: "Exists" }] },
    });
    assert.deepEqual(headers, [
      '299 - "this job has finished (Succeeded) and does not run again: this edit is ignored"',
      '299 - "ignored fields: spec.clients.tolerations"',
      '299 - "to train with this edit, create a new job with spec.output.resumeFrom.job: done (from round 4)"',
    ]);
  });
  it("prints nothing for an edit of ttlSecondsAfterFinished alone, which the finished job follows", async () => {
    const { warnings, stored } = await kubectlEdit("done", { ttlSecondsAfterFinished: 600 });
    assert.deepEqual(warnings, []);
    assert.equal(stored.ttlSecondsAfterFinished, 600);
  });
});

describe("kubectl edits of a running job", () => {
  before(async () => {
    await storedJob("live", {
      phase: "Running",
      clients: [
        { index: 0, phase: "Running" },
        { index: 1, phase: "Running" },
      ],
    });
  });
  it("prints that the running client pods keep the old spec, naming the fields they read", async () => {
    const { warnings } = await kubectlEdit("live", {
      training: { optimizer: { learningRate: 0.5 } },
      server: { replicas: 2 },
    });
    assert.equal(warnings.length, 3, warnings.join("\n"));
    assert.match(warnings[0]!, /^the 2 running client pods keep the old spec until next created/);
    assert.equal(warnings[1], "edited fields they read: spec.training.optimizer");
    assert.match(warnings[2]!, /delete it/);
  });
  it("prints nothing for an edit no client pod reads", async () => {
    const { warnings, stored } = await kubectlEdit("live", { server: { replicas: 3 } });
    assert.deepEqual(warnings, []);
    assert.equal((stored.server as { replicas: number }).replicas, 3);
  });
});

describe("kubectl edits of a job whose stored status does not read (ADR 0023, amendment 5)", () => {
  before(async () => {
    // The CRD of before ADR 0002 amendment 1 admitted a lower-case date-time; the API's schema does not.
    await storedJob(
      "odd",
      {
        phase: "Succeeded",
        conditions: [condition("Succeeded", "TrainingCompleted")],
        completionTime: "2026-11-28t05:00:00z",
      },
      true,
    );
  });
  it("prints which status fields do not read, then the warnings from those that do; the edit is stored", async () => {
    const { warnings, stored } = await kubectlEdit("odd", { training: { rounds: 7 } });
    assert.deepEqual(warnings, [
      "the stored status does not read as this operator's API: this edit was checked without the fields below",
      "status fields it rejects: status.completionTime: Invalid ISO datetime",
      "the operator writes the status again from the job's progress (see the job's StatusUnreadable event)",
      "this job has finished (Succeeded) and does not run again: this edit is ignored",
      "ignored fields: spec.training.rounds",
      "to train with this edit, create a new job (this one has no status.lastCheckpoint: it starts at round 1)",
    ]);
    assert.equal((stored.training as { rounds: number }).rounds, 7);
  });
});
