// Whether the running client pods run the current spec (ADR 0040, amendment 1), against a real
// kube-apiserver + etcd: a running client pod is not replaced for an edit, so the condition
// ClientsConfigCurrent says how many run an older run config or pod spec, a Normal event says so once
// per change of what client pods are made from (status.clientRevision), and the condition comes back
// True as the pods are made again.
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

async function running(count: number, without: string[] = [], name = NAME): Promise<string[]> {
  const pods = await waitFor(
    async () => {
      const p = (await podNames(w.world, name)).filter((n) => !without.includes(n));
      return p.length === count ? p : undefined;
    },
    { timeoutMs: 15_000, description: `${count} client pods` },
  );
  for (const p of pods) await setPodPhase(w.world, p, "Running");
  return pods;
}

const configCondition = (j: JobObject) => condition(j, "ClientsConfigCurrent");

async function outdatedEvents(name = NAME): Promise<{ type: string; message: string }[]> {
  const list = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${name},reason=ClientPodsOutdated`,
  });
  return list.items.map((e) => ({ type: e.type!, message: e.message! }));
}

/** Patches the spec and waits until the operator observed the edit (its events are recorded by then). */
async function edit(name: string, generation: number, spec: Record<string, unknown>): Promise<JobObject> {
  await patchJobSpec(w.world, name, spec);
  return waitForJob(
    w.world,
    name,
    (j) => j.metadata?.generation === generation && j.status?.observedGeneration === generation,
    `generation ${generation} observed`,
  );
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

test("ClientPodsOutdated is recorded once per edit that reaches client pods, never for one they do not read", async () => {
  const name = "cfg-edits";
  await createJob(w.world, jobManifest(name, { clients: { count: 2 }, training: { rounds: 4 } }));
  const pods = await running(2, [], name);
  await waitForJob(w.world, name, (j) => configCondition(j)?.reason === "AllCurrent", "clients current");

  const first = await edit(name, 2, { training: { optimizer: { learningRate: 0.05 } } });
  assert.equal(configCondition(first)!.status, "False");
  assert.equal((await outdatedEvents(name)).length, 1, "one event for the first edit");

  // a second edit the clients read, with the condition's message as it was: an event of its own
  const second = await edit(name, 3, { training: { optimizer: { learningRate: 0.02 } } });
  assert.equal(configCondition(second)!.message, configCondition(first)!.message);
  assert.notEqual(second.status?.clientRevision, first.status?.clientRevision);
  const events = await outdatedEvents(name);
  assert.equal(events.length, 2, "one event for each edit the clients read");
  assert.ok(
    events.some((e) => e.message.startsWith("spec generation 3: 2 of 2 running client pods")),
    `an event names the edit's generation: ${JSON.stringify(events)}`,
  );

  // one client made again (from the current spec) changes the condition's message, not what the other runs against
  await w.world.core.deleteNamespacedPod({ name: pods[0]!, namespace: "default", gracePeriodSeconds: 0 });
  await running(2, [], name);
  await waitForJob(w.world, name, (j) => /1 of 2 running/.test(configCondition(j)?.message ?? ""), "1 of 2");

  // edits no client reads: the job's generation moves, what client pods are made from does not
  const ttl = await edit(name, 4, { ttlSecondsAfterFinished: 600 });
  assert.equal(ttl.status?.clientRevision, second.status?.clientRevision);
  const deadline = await edit(name, 5, { activeDeadlineSeconds: 86_400 });
  assert.match(configCondition(deadline)!.message, /1 of 2 running/);
  assert.equal((await outdatedEvents(name)).length, 2, "no event for edits the clients do not read");
});
