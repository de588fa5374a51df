// Spec edits of a finished job (ADR 0034, amendment 1), against a real kube-apiserver + etcd and a
// real nats-server: any edit is ignored and answered once by a FinishedSpecChangeIgnored Warning that
// names the fields that differ from the spec the job finished with and says how a new job goes on
// from this one's checkpoint; an edit of ttlSecondsAfterFinished, which a finished job follows, is not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jobToken } from "@sfprompt/api";
import { ensureJobResources, publishEvent } from "@sfprompt/protocol";
import { childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import { eventBase, roundFinished } from "./progress-events.js";
import { createJob, operatorWorldHooks, patchJobSpec, waitForJob, type JobObject } from "./harness.js";

const w = operatorWorldHooks();

/** A 2-round job that the server reports finished (with a checkpoint of round 2) or failed (with none). */
async function finishedJob(name: string, outcome: "Succeeded" | "Failed"): Promise<JobObject> {
  await createJob(w.world, jobManifest(name, { clients: { count: 1 }, training: { rounds: 2 } }));
  await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
  const job = jobToken("default", name);
  await ensureJobResources(w.nc, job);
  if (outcome === "Succeeded") {
    for (const r of [1, 2]) await publishEvent(w.nc, roundFinished(job, r));
    await publishEvent(w.nc, {
      ...eventBase(job),
      type: "checkpoint.written",
      round: 2,
      bucket: `sfp-${job}-artifacts`,
      object: "checkpoints/round-000002",
      size: 10,
    });
    const bytes = { up: 200, down: 200, byKind: {} };
    await publishEvent(w.nc, {
      ...eventBase(job),
      type: "job.finished",
      rounds: 2,
      loss: 0.5,
      accuracy: 0.5,
      bytes,
    });
  } else {
    await publishEvent(w.nc, {
      ...eventBase(job),
      type: "job.failed",
      reason: "ModelNotFound",
      message: "no model",
    });
  }
  return waitForJob(w.world, name, (j) => j.status?.phase === outcome, `${name} ${outcome}`);
}

/** Edits the spec as kubectl would; returns the job once the operator observed the edit. */
async function edit(name: string, spec: Record<string, unknown>): Promise<JobObject> {
  const before = (await waitForJob(w.world, name, () => true, name)).metadata!.generation!;
  await patchJobSpec(w.world, name, spec);
  return waitForJob(
    w.world,
    name,
    (j) => j.metadata!.generation! > before && j.status?.observedGeneration === j.metadata!.generation,
    `${name}: the edit ${JSON.stringify(spec)} observed`,
  );
}

async function ignoredEvents(name: string): Promise<{ type: string; message: string }[]> {
  const list = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${name},reason=FinishedSpecChangeIgnored`,
  });
  return list.items.map((e) => ({ type: e.type!, message: e.message! }));
}

/** What would show an edit reaching the children: the ConfigMap's version, the server's generation. */
async function ranWith(name: string): Promise<{ configMap: string; deployment: number; replicas: number }> {
  const names = childNames(name);
  const [cm, d] = await Promise.all([
    w.world.core.readNamespacedConfigMap({ name: names.configMap, namespace: "default" }),
    w.world.apps.readNamespacedDeployment({ name: names.deployment, namespace: "default" }),
  ]);
  return {
    configMap: cm.metadata!.resourceVersion!,
    deployment: d.metadata!.generation!,
    replicas: d.spec!.replicas!,
  };
}

test("each edit of a succeeded job gets one Warning naming what differs from what it ran with, and resumeFrom", async () => {
  await finishedJob("done", "Succeeded");
  const children = await ranWith("done");
  assert.equal(children.replicas, 0, "the finished job's server is scaled to 0");

  const first = await edit("done", { clients: { nodeSelector: { site: "plant-2" } } });
  assert.equal(first.status!.phase, "Succeeded");
  let events = await ignoredEvents("done");
  assert.equal(events.length, 1, "one event for the edit");
  assert.equal(events[0]!.type, "Warning");
  assert.match(events[0]!.message, /spec\.clients\.nodeSelector/);
  assert.doesNotMatch(events[0]!.message, /spec\.training/, "only what differs is named");
  assert.match(events[0]!.message, /create a new job/);
  assert.match(events[0]!.message, /spec\.output\.resumeFrom\.job: done/);
  assert.match(events[0]!.message, /round 2/, "the checkpoint a new job goes on from");

  await edit("done", { training: { optimizer: { learningRate: 0.5 } } });
  events = await ignoredEvents("done");
  assert.equal(events.length, 2, "one more event for the second edit");
  // events made in the same second have no order: the second is the one that names the optimizer
  const second = events.find((e) => /spec\.training\.optimizer/.test(e.message));
  assert.ok(second, JSON.stringify(events));
  assert.match(second.message, /spec\.clients\.nodeSelector/, "still differs from what it ran with");
  assert.deepEqual(
    await ranWith("done"),
    children,
    "the run config and the server stay as the job ran (no rollout of a server at 0 for an ignored edit)",
  );
});

test("a finished job's TTL edit, which it follows, gets no Warning", async () => {
  await finishedJob("ttl", "Succeeded");
  await edit("ttl", { ttlSecondsAfterFinished: 3600 });
  assert.deepEqual(await ignoredEvents("ttl"), []);
});

test("an edit of a failed job without a checkpoint says a new job starts over", async () => {
  await finishedJob("broken", "Failed");
  await edit("broken", { server: { env: [{ name: "LOG_LEVEL", value: "debug" }] } });
  const events = await ignoredEvents("broken");
  assert.equal(events.length, 1);
  assert.match(events[0]!.message, /\(Failed\)/);
  assert.match(events[0]!.message, /spec\.server\.env/);
  assert.match(events[0]!.message, /no checkpoint/);
  assert.doesNotMatch(events[0]!.message, /resumeFrom\.job: broken/);
});
