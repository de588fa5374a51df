// Client pod replacement against what else can happen to the pods: a user deleting one by hand, the
// API server refusing the replacement (a Pod Security level the pods do not meet).
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import {
  condition,
  createJob,
  merge,
  operatorWorldHooks,
  podNames,
  setPodPhase,
  waitForJob,
  type JobObject,
} from "./harness.js";

const w = operatorWorldHooks();

async function eventsOf(job: string, reason: string): Promise<string[]> {
  const list = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${job},reason=${reason}`,
  });
  return list.items.map((e) => e.message ?? "");
}

async function podsAre(job: string, names: string[]): Promise<void> {
  await waitFor(async () => (await podNames(w.world, job)).join() === names.join(), {
    timeoutMs: 10_000,
    intervalMs: 50,
    description: `${job}'s pods to be ${names.join()}`,
  });
}

type ClientView = { phase?: string; restarts?: number; pod?: string };
const client0 = (j: JobObject): ClientView | undefined =>
  (j.status?.clients as ClientView[] | undefined)?.[0];

const deletePod = (name: string): Promise<unknown> =>
  w.world.core.deleteNamespacedPod({ name, namespace: "default", gracePeriodSeconds: 0 });

test("a client pod deleted by hand is made again under the same restart count; a failed one deleted counts its failure", async () => {
  await createJob(w.world, jobManifest("manual", { clients: { count: 1 } }));
  await podsAre("manual", ["manual-client-0"]);
  await setPodPhase(w.world, "manual-client-0", "Failed", { finishedAt: new Date() });
  await podsAre("manual", ["manual-client-0-r1"]);
  await waitForJob(w.world, "manual", (j) => client0(j)?.pod === "manual-client-0-r1", "restart 1 in status");

  // Not a failure: the same attempt again, neither reset to client-0 nor counted as restart 2.
  await deletePod("manual-client-0-r1");
  await podsAre("manual", ["manual-client-0-r1"]);
  const same = await waitForJob(w.world, "manual", (j) => client0(j)?.pod === "manual-client-0-r1", "r1");
  assert.equal(client0(same)?.restarts, 1);
  assert.deepEqual(await eventsOf("manual", "ClientRestarted"), ["client 0 failed; started restart 1 of 2"]);
  assert.equal((await eventsOf("manual", "ClientPodRecreated")).length, 1);

  // A pod that had failed and is deleted while it waits for its backoff: its failure counts.
  await setPodPhase(w.world, "manual-client-0-r1", "Failed", { finishedAt: new Date() });
  await waitForJob(w.world, "manual", (j) => client0(j)?.phase === "Failed", "r1 Failed in status");
  await deletePod("manual-client-0-r1");
  await podsAre("manual", ["manual-client-0-r2"]);
  // r2 is the last restart: deleting it after it failed leaves the client failed for good.
  await waitForJob(w.world, "manual", (j) => client0(j)?.pod === "manual-client-0-r2", "r2 in status");
  await setPodPhase(w.world, "manual-client-0-r2", "Failed", { finishedAt: new Date() });
  await waitForJob(w.world, "manual", (j) => client0(j)?.phase === "Failed", "r2 Failed in status");
  await deletePod("manual-client-0-r2");
  const failed = await waitForJob(w.world, "manual", (j) => j.status?.phase === "Failed", "the job Failed");
  assert.equal(condition(failed, "Failed")?.reason, "ClientsFailed");
  await podsAre("manual", []);
});

test("ClientRestarted is reported only once the API server took the replacement pod", async () => {
  await createJob(w.world, jobManifest("refused", { clients: { count: 1 } }));
  await podsAre("refused", ["refused-client-0"]);
  // The restricted Pod Security level refuses the client pods (they do not say runAsNonRoot).
  const restricted = (level: string | null): Promise<unknown> =>
    w.world.core.patchNamespace(
      { name: "default", body: { metadata: { labels: { "pod-security.kubernetes.io/enforce": level } } } },
      merge,
    );
  await restricted("restricted");
  try {
    await setPodPhase(w.world, "refused-client-0", "Failed", { finishedAt: new Date() });
    const j = await waitForJob(
      w.world,
      "refused",
      (x) => condition(x, "Created")?.reason === "ChildRejected",
      "the replacement refused",
    );
    assert.match(condition(j, "Created")!.message, /refused-client-0-r1/);
    assert.deepEqual(await eventsOf("refused", "ClientRestarted"), [], "no restart was started");
  } finally {
    await restricted(null);
  }
  await podsAre("refused", ["refused-client-0-r1"]);
  await waitForJob(w.world, "refused", (x) => condition(x, "Created")?.status === "True", "Created again");
  assert.deepEqual(await eventsOf("refused", "ClientRestarted"), ["client 0 failed; started restart 1 of 2"]);
});
