// Jobs the API server accepts but that are odd for their children: pod fields the API server
// refuses, a spec an older CRD lets through but zod does not, a fix for pods that have not started.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { waitFor } from "@sfprompt/kube-testing";
import { jobManifest, type SpecInput } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import {
  condition,
  createJob,
  getJob,
  patchJobSpec,
  podNames,
  setPodPhase,
  setServerAvailable,
  waitForJob,
  worldHooks,
} from "./harness.js";

const w = worldHooks(installOlderCrd);

const refused: { name: string; job: string; spec: SpecInput; field: RegExp; fix: Record<string, unknown> }[] =
  [
    {
      name: "a server whose CPU request exceeds its limit",
      job: "over-limit",
      spec: {
        clients: { count: 1 },
        server: { resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } },
      },
      field:
        /Deployment default\/over-limit-server .*resources\.requests.*must be less than or equal to cpu limit/,
      fix: { server: { resources: { requests: { cpu: "1" }, limits: { cpu: "1" } } } },
    },
    {
      name: "client pods with an Exists toleration that has a value",
      job: "odd-toleration",
      spec: { clients: { count: 1, tolerations: [{ key: "edge", operator: "Exists", value: "x" }] } },
      field: /Pod default\/odd-toleration-client-0 .*tolerations\[\d+\]\.operator/,
      fix: { clients: { tolerations: [{ key: "edge", operator: "Exists" }] } },
    },
  ];

for (const c of refused) {
  test(`${c.name}: the API server's refusal reaches the status and an event, and a fixed spec clears it`, async () => {
    await createJob(w.world, jobManifest(c.job, c.spec));
    const j = await waitForJob(
      w.world,
      c.job,
      (x) => condition(x, "Created")?.status === "False",
      `${c.job} to report the refusal`,
    );
    const created = condition(j, "Created")!;
    assert.equal(created.reason, "ChildRejected");
    assert.match(created.message, c.field);
    assert.match(created.message, /change the job's spec/);
    const events = await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${c.job},reason=ChildRejected`,
    });
    assert.equal(events.items[0]?.type, "Warning");
    assert.equal(events.items[0]?.message, created.message);

    await patchJobSpec(w.world, c.job, c.fix);
    const fixed = await waitForJob(
      w.world,
      c.job,
      (x) => condition(x, "Created")?.status === "True",
      `${c.job} to apply its children after the fix`,
    );
    assert.equal(condition(fixed, "Created")!.reason, "ChildrenApplied");
    assert.deepEqual(await podNames(w.world, c.job), [`${c.job}-client-0`]);
  });
}

test("a spec change an older CRD lets through but the API refuses fails the job with InvalidSpec; fixing it lets the job carry on", async () => {
  // installOlderCrd took the quorum-vs-fraction rule out of the CRD; zod still refuses such a spec.
  await createJob(w.world, jobManifest("quorate", { clients: { count: 4, perRound: { fraction: 0.5 } } }));
  await waitFor(async () => (await podNames(w.world, "quorate")).length === 4, {
    timeoutMs: 15_000,
    description: "the client pods of quorate",
  });
  await setServerAvailable(w.world, "quorate-server", 1);
  await setPodPhase(w.world, "quorate-client-0", "Running", { node: "edge-0" });
  const running = await waitForJob(
    w.world,
    "quorate",
    (j) => j.status?.phase === "Running",
    "quorate to run",
  );
  // three of its four clients have no pod running: kubectl get -o wide's MESSAGE says so
  assert.match(String(running.status?.message ?? ""), /^ClientsNotRunning: /);

  await patchJobSpec(w.world, "quorate", { training: { quorum: { count: 3, fraction: null } } });
  const bad = await waitForJob(w.world, "quorate", (j) => j.status?.phase === "Failed", "quorate to fail");
  const failed = condition(bad, "Failed")!;
  assert.equal(failed.reason, "InvalidSpec");
  assert.match(
    failed.message,
    /^spec\.training\.quorum\.count: is 3 but only 2 clients are selected per round/,
  );
  assert.equal(condition(bad, "Running")?.status, "False", "a Failed job is not Running");
  // status.message speaks of the failure, not of the clients it spoke of while the job ran
  const said = String(bad.status?.message ?? "");
  assert.ok(said.startsWith("InvalidSpec: spec.training.quorum.count: is 3"), said);
  assert.ok(`InvalidSpec: ${failed.message}`.startsWith(said.replace(/…$/, "")), said);
  assert.equal(
    bad.status?.completionTime,
    undefined,
    "an invalid spec can be fixed: the job is not finished",
  );
  assert.equal((await podNames(w.world, "quorate")).length, 4, "the running pods are left alone");

  await patchJobSpec(w.world, "quorate", { training: { quorum: { count: 2 } } });
  const fixed = await waitForJob(
    w.world,
    "quorate",
    (j) => j.status?.phase === "Running",
    "quorate to run again",
  );
  assert.equal(condition(fixed, "Failed")?.status, "False");
  assert.equal(condition(fixed, "Running")?.status, "True");
  assert.doesNotMatch(
    String(fixed.status?.message ?? ""),
    /InvalidSpec/,
    "the fixed spec's failure is not told",
  );
  assert.equal(fixed.status?.observedGeneration, fixed.metadata?.generation);
  const d = await w.world.apps.readNamespacedDeployment({ name: "quorate-server", namespace: "default" });
  assert.equal(d.spec?.replicas, 1, "the server is not scaled down");
  assert.deepEqual(
    await podNames(w.world, "quorate"),
    [0, 1, 2, 3].map((i) => `quorate-client-${i}`),
  );
  assert.equal((await getJob(w.world, "quorate"))?.status?.completionTime, undefined);
});

test("a fixed client node selector replaces the client pods that have not started, and leaves running ones alone", async () => {
  await createJob(w.world, jobManifest("typo", { clients: { count: 2, nodeSelector: { site: "plant-l" } } }));
  await waitFor(async () => (await podNames(w.world, "typo")).length === 2, {
    timeoutMs: 15_000,
    description: "the client pods of typo",
  });
  await setPodPhase(w.world, "typo-client-1", "Running");
  const read = (name: string): Promise<V1Pod> =>
    w.world.core.readNamespacedPod({ name, namespace: "default" });
  const [pending, running] = [await read("typo-client-0"), await read("typo-client-1")];

  await patchJobSpec(w.world, "typo", { clients: { nodeSelector: { site: "plant-1" } } });
  const replaced = await waitFor(
    async () => {
      const p = await read("typo-client-0").catch(() => undefined);
      return p && p.metadata!.uid !== pending.metadata!.uid ? p : undefined;
    },
    { timeoutMs: 15_000, description: "the pending pod to be replaced" },
  );
  assert.deepEqual(replaced.spec!.nodeSelector, { site: "plant-1" });
  const still = await read("typo-client-1");
  assert.equal(still.metadata!.uid, running.metadata!.uid, "a running client keeps its pod");
  assert.deepEqual(still.spec!.nodeSelector, { site: "plant-l" });
  assert.deepEqual(await podNames(w.world, "typo"), ["typo-client-0", "typo-client-1"]);
});

test("a finished job whose spec turns invalid keeps its outcome; the InvalidSpec event says what is wrong", async () => {
  await createJob(
    w.world,
    jobManifest("over", { clients: { count: 4, perRound: { fraction: 0.5 } }, activeDeadlineSeconds: 1 }),
  );
  const failed = await waitForJob(
    w.world,
    "over",
    (j) => j.status?.phase === "Failed",
    "over to pass its deadline",
  );
  assert.equal(condition(failed, "Failed")?.reason, "DeadlineExceeded");

  await patchJobSpec(w.world, "over", { training: { quorum: { count: 3, fraction: null } } });
  await waitFor(
    async () => {
      const events = await w.world.core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: "involvedObject.name=over,reason=InvalidSpec",
      });
      return events.items.length > 0;
    },
    { timeoutMs: 15_000, description: "the InvalidSpec event" },
  );
  const after = await getJob(w.world, "over");
  assert.equal(after?.status?.phase, "Failed");
  assert.equal(condition(after, "Failed")?.reason, "DeadlineExceeded");
  assert.equal(after?.status?.completionTime, failed.status?.completionTime);
});
