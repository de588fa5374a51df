// Whether the running client pods run the current spec (ADR 0040, amendment 1), against a real
// kube-apiserver + etcd: a running client pod is not replaced for an edit, so the condition
// ClientsConfigCurrent says how many run an older run config or pod spec, a Normal event says so once
// per edit, and the condition comes back True as the pods are made again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import {
  condition,
  createJob,
  patchJobSpec,
  podNames,
  setPodPhase,
  waitForJob,
  worldHooks,
  type JobObject,
} from "./harness.js";

const w = worldHooks();
const NAME = "cfg";

async function running(count: number, without: string[] = []): Promise<string[]> {
  const pods = await waitFor(
    async () => {
      const p = (await podNames(w.world, NAME)).filter((n) => !without.includes(n));
      return p.length === count ? p : undefined;
    },
    { timeoutMs: 15_000, description: `${count} client pods` },
  );
  for (const p of pods) await setPodPhase(w.world, p, "Running");
  return pods;
}

const configCondition = (j: JobObject) => condition(j, "ClientsConfigCurrent");

async function outdatedEvents(): Promise<{ type: string; message: string }[]> {
  const list = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${NAME},reason=ClientPodsOutdated`,
  });
  return list.items.map((e) => ({ type: e.type!, message: e.message! }));
}

test("running client pods of an older spec show in ClientsConfigCurrent until they are made again", async () => {
  await createJob(w.world, jobManifest(NAME, { clients: { count: 2 }, training: { rounds: 4 } }));
  const pods = await running(2);
  const current = await waitForJob(
    w.world,
    NAME,
    (j) =>
      configCondition(j)?.message === "all 2 running client pods run the current run config and pod spec",
    "both clients running the current spec",
  );
  assert.equal(configCondition(current)!.status, "True");

  await patchJobSpec(w.world, NAME, { training: { optimizer: { learningRate: 0.05 } } });
  const edited = await waitForJob(
    w.world,
    NAME,
    (j) => j.metadata?.generation === 2 && j.status?.observedGeneration === 2,
    "the edit observed",
  );
  const cond = configCondition(edited)!;
  assert.deepEqual([cond.status, cond.reason], ["False", "ClientPodsOutdated"]);
  assert.equal((cond as { observedGeneration?: number }).observedGeneration, 2);
  assert.match(cond.message, /2 of 2 running client pods/);
  assert.match(cond.message, /next created/);
  assert.deepEqual(await podNames(w.world, NAME), pods, "running pods are not replaced");
  const events = await outdatedEvents();
  assert.equal(events.length, 1, "one event for the edit");
  assert.equal(events[0]!.type, "Normal");

  // a pod deleted by hand is made again from the current spec
  await w.world.core.deleteNamespacedPod({ name: pods[0]!, namespace: "default", gracePeriodSeconds: 0 });
  await running(2);
  const one = await waitForJob(
    w.world,
    NAME,
    (j) => /1 of 2 running/.test(configCondition(j)?.message ?? ""),
    "one client left on the older spec",
  );
  assert.equal(configCondition(one)!.status, "False");
  assert.equal((await outdatedEvents()).length, 1, "no new event without an edit");

  await w.world.core.deleteNamespacedPod({ name: pods[1]!, namespace: "default", gracePeriodSeconds: 0 });
  await running(2);
  const again = await waitForJob(
    w.world,
    NAME,
    (j) => configCondition(j)?.status === "True",
    "all clients on the current spec",
  );
  assert.equal(configCondition(again)!.reason, "AllCurrent");
});
