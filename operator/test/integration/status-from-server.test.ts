// The status from what the server process reports, where the report is odd: a failure whose reason or
// message a condition cannot hold, a run that starts over from round 1, a finished job given more rounds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobToken } from "@sfprompt/api";
import { ensureJobResources, eventStreamName, publishEvent } from "@sfprompt/protocol";
import { jobManifest } from "../fixtures.js";
import { eventBase, roundFinished } from "./progress-events.js";
import { condition, createJob, getJob, operatorWorldHooks, patchJobSpec, waitForJob } from "./harness.js";

const w = operatorWorldHooks();

async function started(name: string, rounds = 10): Promise<string> {
  await createJob(w.world, jobManifest(name, { clients: { count: 1 }, training: { rounds } }));
  await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
  const job = jobToken("default", name);
  await ensureJobResources(w.nc, job);
  return job;
}

const cases: { name: string; reason: string; message: string; shownReason: string }[] = [
  {
    name: "a job.failed message longer than a condition holds is cut, and says so",
    reason: "OutOfMemory",
    message: "x".repeat(40_000),
    shownReason: "OutOfMemory",
  },
  {
    name: "a job.failed reason with spaces becomes TrainingFailed, the server's words kept in the message",
    reason: "out of memory!",
    message: "the body ran out of GPU memory",
    shownReason: "TrainingFailed",
  },
  {
    name: "a job.failed reason longer than 1024 characters becomes TrainingFailed",
    reason: "A".repeat(2000),
    message: "too long a reason",
    shownReason: "TrainingFailed",
  },
];

for (const [i, c] of cases.entries()) {
  test(c.name, async () => {
    const name = `oddfail-${i}`;
    const job = await started(name);
    await publishEvent(w.nc, { ...eventBase(job), type: "job.failed", reason: c.reason, message: c.message });
    const failed = await waitForJob(w.world, name, (j) => j.status?.phase === "Failed", `${name} Failed`);
    const cond = condition(failed, "Failed")!;
    assert.equal(cond.status, "True");
    assert.equal(cond.reason, c.shownReason);
    assert.ok(cond.message.length <= 32768, `message of ${cond.message.length} characters`);
    if (c.message.length > 32768) assert.match(cond.message, /truncated/);
    else assert.ok(cond.message.includes(c.message), cond.message);
    if (c.shownReason !== c.reason) assert.ok(cond.message.includes(c.reason.slice(0, 100)), cond.message);
    const events = await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${name},reason=${c.shownReason}`,
    });
    assert.equal(events.items[0]?.type, "Warning", "the failure is also an event");
  });
}

test("a checkpoint name longer than the status holds does not stop the status from updating", async () => {
  const job = await started("longckpt");
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "checkpoint.written",
    round: 1,
    bucket: `sfp-${job}-artifacts`,
    object: `checkpoints/${"x".repeat(2000)}`,
    size: 10,
  });
  await publishEvent(w.nc, roundFinished(job, 1));
  const j = await waitForJob(w.world, "longckpt", (x) => x.status?.round === 1, "round 1 in status");
  assert.equal(j.status!.lastCheckpoint, undefined, "no checkpoint the status cannot hold");
});

test("status.round follows a run that starts over on a new event stream (NATS without persistence restarted)", async () => {
  const job = await started("rerun");
  for (const r of [1, 2, 3]) await publishEvent(w.nc, roundFinished(job, r));
  await waitForJob(w.world, "rerun", (j) => j.status?.round === 3, "round 3");

  const jsm = await jetstreamManager(w.nc);
  await jsm.streams.delete(eventStreamName(job));
  await ensureJobResources(w.nc, job);
  await publishEvent(w.nc, roundFinished(job, 1));
  const again = await waitForJob(w.world, "rerun", (j) => j.status?.round === 1, "round 1 of the new stream");
  assert.equal(again.status!.progress, "1/10");
});

test("more rounds given to a finished job: status keeps the rounds it ran, a Warning says the change is ignored", async () => {
  const job = await started("finished", 2);
  for (const r of [1, 2]) await publishEvent(w.nc, roundFinished(job, r));
  await publishEvent(w.nc, {
    ...eventBase(job),
    type: "job.finished",
    rounds: 2,
    loss: 0.5,
    accuracy: 0.5,
    bytes: { up: 200, down: 200, byKind: {} },
  });
  await waitForJob(w.world, "finished", (j) => j.status?.phase === "Succeeded", "Succeeded");
  await patchJobSpec(w.world, "finished", { training: { rounds: 5 } });
  const edited = await waitForJob(
    w.world,
    "finished",
    (j) => j.status?.observedGeneration === j.metadata?.generation && j.metadata?.generation !== 1,
    "the edit observed",
  );
  assert.deepEqual(
    [edited.status!.phase, edited.status!.round, edited.status!.rounds, edited.status!.progress],
    ["Succeeded", 2, 2, "2/2"],
  );
  const events = await w.world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: "involvedObject.name=finished,reason=FinishedSpecChangeIgnored",
  });
  assert.equal(events.items.length, 1, "one event for the edit");
  assert.equal(events.items[0]!.type, "Warning");
  assert.match(events.items[0]!.message!, /spec\.training\.rounds 2 → 5/);
  assert.equal((await getJob(w.world, "finished"))!.status!.rounds, 2);
});
