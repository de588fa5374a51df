// The leader's pod label between resyncs, against a real kube-apiserver (ADR 0023, amendment 4): with a
// 300 s resync, a label someone puts on another pod of the release is cleared, and one taken off the
// leader's pod is put back, within seconds (the leader watches labelled pods); and a pod that changed
// since it was listed is an expected outcome of clearing its label, not a failure.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { waitFor } from "@sfprompt/kube-testing";
import { LeaderLabelWatch } from "../../src/leader/leader-label-watch.js";
import { LEADER_POD_LABEL, clearLabel, type LabelledPod } from "../../src/leader/leader-pod-label.js";
import { createLogger } from "../../src/log.js";
import type { RunningOperator } from "../../src/operator.js";
import { runOperator, startWorld, testConfig, type World } from "./harness.js";
import { createPod as createPodIn, release } from "./leader-pods.js";

let world: World;
const createPod = (name: string, labels: Record<string, string>): Promise<void> =>
  createPodIn(world.core, name, labels);
const operators: RunningOperator[] = [];
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Sets (a string) or removes (null) labels on a pod by hand, as `kubectl label` does. */
async function relabel(name: string, labels: Record<string, string | null>): Promise<void> {
  await world.core.patchNamespacedPod(
    { name, namespace: "default", body: { metadata: { labels } } },
    mergePatch,
  );
}

async function leaderPods(): Promise<string[]> {
  const pods = await world.core.listNamespacedPod({
    namespace: "default",
    labelSelector: `${LEADER_POD_LABEL}=leader`,
  });
  return pods.items.map((p) => p.metadata!.name!).sort();
}

async function listed(name: string): Promise<LabelledPod> {
  const pod = await world.core.readNamespacedPod({ name, namespace: "default" });
  return { name, resourceVersion: pod.metadata!.resourceVersion! };
}

async function labelOf(name: string): Promise<string | undefined> {
  const pod = await world.core.readNamespacedPod({ name, namespace: "default" });
  return pod.metadata?.labels?.[LEADER_POD_LABEL];
}

before(async () => {
  world = await startWorld();
  await createPod("op-a", release("sfp"));
  await createPod("op-b", release("sfp"));
  await createPod("other-0", { ...release("other"), [LEADER_POD_LABEL]: "leader" });
});
after(async () => {
  await Promise.all(operators.map((o) => o.stop()));
  await world?.stop();
});

test("with a 300 s resync, a label put on another pod is cleared and one taken off the leader's pod comes back, within seconds", async () => {
  const config = testConfig(world, (c) => {
    c.leaderElection = { ...c.leaderElection, enabled: true, name: "label-watch", identity: "op-a" };
    c.leaderPod = { name: "op-a", namespace: "default", selector: "app.kubernetes.io/instance=sfp" };
    c.resyncMs = 300_000;
  });
  const a = await runOperator(world, config);
  operators.push(a);
  await waitFor(async () => (await leaderPods()).join() === "op-a,other-0", {
    timeoutMs: 10_000,
    description: "the leader's first pass: the label on op-a",
  });
  await new Promise((r) => setTimeout(r, 500)); // the first pass and the watch's start are behind us

  // Each wait below is generous (30 s) yet far short of the 300 s resync: only the watch can wake the
  // pass that meets it.
  // A former leader that labelled its pod just before it lost the Lease, say.
  await relabel("op-b", { [LEADER_POD_LABEL]: "leader" });
  await waitFor(async () => (await leaderPods()).join() === "op-a,other-0", {
    timeoutMs: 30_000,
    description: "the label put on op-b by hand cleared well before the 300 s resync",
  });

  await relabel("op-a", { [LEADER_POD_LABEL]: null });
  await waitFor(async () => (await leaderPods()).join() === "op-a,other-0", {
    timeoutMs: 30_000,
    description: "the label taken off op-a by hand put back well before the 300 s resync",
  });
  assert.equal(a.isLeader(), true);

  // The server ends each watch after 20 s; the watch started again still wakes the leader.
  await new Promise((r) => setTimeout(r, 22_000));
  await relabel("op-b", { [LEADER_POD_LABEL]: "leader" });
  await waitFor(async () => (await leaderPods()).join() === "op-a,other-0", {
    timeoutMs: 30_000,
    description: "the label put on op-b after the first watch ended cleared",
  });
});

test("each watch the server ends and that is opened again asks for a pass, for a change made while none was open", async () => {
  // The server ends each watch after 1 s; nothing matches the selector, so no event asks for a pass:
  // only the reopened watches do. A label taken off the leader's pod between two watches reaches
  // neither, and without these passes would wait for the resync.
  let passes = 0;
  const watch = new LeaderLabelWatch(world.cp.kubeConfig, {
    namespace: "default",
    labelSelector: `app.kubernetes.io/instance=gap,${LEADER_POD_LABEL}=leader`,
    self: "gap-0",
    retryMs: 100,
    maxRetryMs: 1000,
    watchSeconds: 1,
    log: createLogger({ level: "error" }),
    onChange: () => (passes += 1),
  });
  watch.start();
  try {
    await waitFor(async () => passes >= 2, {
      timeoutMs: 30_000,
      description: "a pass after each of two reopened watches",
    });
  } finally {
    watch.stop();
  }
});

test("clearing a label: a pod changed since it was listed is 'changed' and keeps its label; else cleared, or gone", async () => {
  const api = world.cp.kubeConfig.makeApiClient(CoreV1Api);
  await createPod("stale-0", { ...release("stale"), [LEADER_POD_LABEL]: "leader" });
  const before = await listed("stale-0");
  await relabel("stale-0", { touched: "yes" }); // the pod changes after it was listed

  assert.equal(await clearLabel(api, "default", before), "changed");
  assert.equal(await labelOf("stale-0"), "leader", "a changed pod keeps its label");

  assert.equal(await clearLabel(api, "default", await listed("stale-0")), "cleared");
  assert.equal(await labelOf("stale-0"), undefined);

  const last = await listed("stale-0");
  await world.core.deleteNamespacedPod({ name: "stale-0", namespace: "default", gracePeriodSeconds: 0 });
  await waitFor(
    async () =>
      !(await world.core.listNamespacedPod({ namespace: "default" })).items.some(
        (p) => p.metadata?.name === "stale-0",
      ),
    { timeoutMs: 5000, description: "stale-0 deleted" },
  );
  assert.equal(await clearLabel(api, "default", last), "gone");
});
