// The status of a job whose run starts over in the same event stream, within the stream's duplicate
// window (ADR 0036): the new attempt's rounds land, nothing of the attempt before stays in the status
// (round, best accuracy, bytes, a client's last round and samples, the checkpoint), and events the
// replaced server still sends change nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jobToken, type Status } from "@sfprompt/api";
import { ensureJobResources, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { jobManifest } from "../fixtures.js";
import { createJob, operatorWorldHooks, waitForJob, type JobObject } from "./harness.js";

const w = operatorWorldHooks();
const statusOf = (j: JobObject): Status => j.status as unknown as Status;

function roundFinished(
  job: string,
  attempt: string,
  round: number,
  accuracy: number,
  up: number,
): ProgressEvent {
  return {
    v: 1,
    job,
    at: new Date().toISOString(),
    attempt,
    type: "round.finished",
    round,
    loss: 1 / round,
    accuracy,
    participants: ["client-0"],
    samples: up,
    contributions: [{ client: "client-0", samples: up * 2, kept: up }],
    bytes: { up, down: up, byKind: {} },
    durationMs: 1,
  };
}

test("status follows a run started over in the same stream: the new attempt's rounds, nothing of the one before", async () => {
  const name = "attempts";
  await createJob(w.world, jobManifest(name, { clients: { count: 1 }, training: { rounds: 10 } }));
  await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
  const job = jobToken("default", name);
  await ensureJobResources(w.nc, job);

  for (const r of [1, 2, 3]) await publishEvent(w.nc, roundFinished(job, "first", r, 0.9, 1000 * r));
  await publishEvent(w.nc, {
    v: 1,
    job,
    at: new Date().toISOString(),
    attempt: "first",
    type: "checkpoint.written",
    round: 3,
    bucket: `sfp-${job}-artifacts`,
    object: "checkpoints/round-000003",
    size: 10,
  });
  const first = statusOf(
    await waitForJob(w.world, name, (j) => j.status?.lastCheckpoint !== undefined, "round 3"),
  );
  assert.equal(first.round, 3);
  assert.equal(first.metrics?.bestAccuracy, 0.9);

  // the job started over (output.resume false, say) seconds later: round 1 again, same message ids
  // but for the attempt
  const again = roundFinished(job, "second", 1, 0.3, 7);
  assert.equal((await publishEvent(w.nc, again)).duplicate, false);
  const second = await waitForJob(w.world, name, (j) => j.status?.round === 1, "round 1 of the new attempt");
  const s = statusOf(second);
  assert.deepEqual(
    {
      best: [s.metrics?.bestAccuracy, s.metrics?.bestRound],
      bytes: [s.communication?.up, s.communication?.down],
      client: [s.clients?.[0]?.lastRound, s.clients?.[0]?.samples, s.clients?.[0]?.kept],
      checkpoint: s.lastCheckpoint,
    },
    { best: [0.3, 1], bytes: [7, 7], client: [1, 14, 7], checkpoint: undefined },
  );

  // the replaced server's late round changes nothing; the new attempt's next one lands
  await publishEvent(w.nc, roundFinished(job, "first", 4, 0.99, 4000));
  await publishEvent(w.nc, roundFinished(job, "second", 2, 0.4, 9));
  const third = statusOf(
    await waitForJob(w.world, name, (j) => j.status?.round === 2, "round 2 of the new attempt"),
  );
  assert.deepEqual(
    [third.metrics?.bestAccuracy, third.communication?.up, third.clients?.[0]?.lastRound],
    [0.4, 16, 2],
  );
});
