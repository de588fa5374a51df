// A job that goes on from another job's checkpoints (spec.output.resumeFrom, ADR 0044), against a real
// nats-server and real clients: job B starts after job A's last checkpointed round, with A's
// parameters and history, under its own new attempt, writes its checkpoints to its own bucket and
// leaves A's untouched, each checkpoint naming A and its round (`inherited`), and counts only its own
// rounds' bytes in job.finished, after a restart too; a source without a bucket or a checkpoint
// fails B naming the field; a B with a checkpoint of its own resumes from that one. Each start that
// goes on from a checkpoint publishes run.resumed on the job's stream before its first round (ADR 0046).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkpointObjectName, fetchEvents, openArtifactStore } from "@sfprompt/protocol";
import { checkpointSpec, paramsAllClose, readLatestCheckpoint, writeCheckpoint } from "@sfprompt/core";
import type { RunConfig } from "@sfprompt/api";
import type { ProgressEvent } from "@sfprompt/protocol";
import { jobConfig, natsAndBundleHooks, startTestServer } from "./job-fixture.js";
import { bucketContents, jobRuns, logsUntil } from "./job-runs.js";

const w = natsAndBundleHooks();
const { newName, runJob, failedStart, layout } = jobRuns(w);

/** Up and down bytes of job.finished, and summed over the round.finished events of the same run. */
function finishedAndRoundBytes(events: readonly ProgressEvent[]): { finished: number[]; rounds: number[] } {
  const finished = events.find((e) => e.type === "job.finished");
  assert.ok(finished?.type === "job.finished", "job.finished was published");
  let [up, down] = [0, 0];
  for (const e of events)
    if (e.type === "round.finished") {
      up += e.bytes.up;
      down += e.bytes.down;
    }
  return { finished: [finished.bytes.up, finished.bytes.down], rounds: [up, down] };
}

/** The job's events as its JetStream stream holds them, in order (a fresh durable consumer). */
async function streamed(config: RunConfig, reader: string): Promise<ProgressEvent[]> {
  const got = await fetchEvents(w.nats.nc, config.names.job, reader, { max: 1000 });
  return got.flatMap((d) => (d.ok ? [d.event] : []));
}

/** The loss and accuracy round.finished of `round` gave among `events` (run.resumed repeats them). */
function roundScores(events: readonly ProgressEvent[], round: number): { loss: number; accuracy: number } {
  const e = events.find((x) => x.type === "round.finished" && x.round === round);
  assert.ok(e?.type === "round.finished", `round.finished of round ${round}`);
  return { loss: e.loss, accuracy: e.accuracy };
}

/** The run.resumed events among `events`, without the fields every event carries but the attempt. */
function resumedOf(events: readonly ProgressEvent[]): Record<string, unknown>[] {
  return events.flatMap((e) => {
    if (e.type !== "run.resumed") return [];
    const { v: _v, job: _job, at: _at, launch: _launch, ...rest } = e;
    return [rest];
  });
}

test("job B with resumeFrom A trains round 3 from A's round 2, under a new attempt, into its own bucket, counting only its own rounds' bytes, after a restart too; A's bucket is unchanged", async () => {
  const a = newName("source");
  const configA = jobConfig({ training: { rounds: 2 } }, a);
  const ranA = await runJob(configA);
  assert.equal(ranA.result.resumedFrom, null);
  const storeA = await openArtifactStore(w.nats.nc, configA.names.job);
  const before = await bucketContents(storeA);
  assert.ok(
    before.some((l) => l.startsWith(checkpointObjectName(2))),
    "A checkpointed round 2",
  );

  const nameB = newName("next");
  const configB = jobConfig({ training: { rounds: 3 }, output: { resumeFrom: { job: a } } }, nameB);
  assert.equal(configB.output.resumeFrom?.token, configA.names.job);
  assert.equal(configB.output.resumeFrom?.bucket, storeA.bucket);
  const ranB = await runJob(configB);
  const { result } = ranB;
  assert.equal(result.resumedFrom, 2);
  assert.deepEqual(
    result.rounds.map((r) => r.round),
    [1, 2, 3],
  );
  assert.deepEqual(result.rounds.slice(0, 2), ranA.result.rounds, "A's history is B's first two rounds");
  assert.ok(
    paramsAllClose(result.startedFrom, ranA.result.global, { atol: 1e-7, rtol: 0 }),
    "A's parameters",
  );
  assert.ok(result.attempt !== undefined && result.attempt !== ranA.result.attempt, "a new attempt");
  const resumed = ranB.logs.find((l) => l.event === "resumed");
  assert.equal(resumed?.round, 2);
  assert.equal(resumed.from, a);
  assert.equal(resumed.bucket, storeA.bucket);

  const storeB = await openArtifactStore(w.nats.nc, configB.names.job);
  assert.deepEqual(await storeB.checkpointNames(), [checkpointObjectName(3)], "B's own checkpoints");
  // read as B's own: the checkpoint carries B's token, so a restart of B resumes from it
  const own = await readLatestCheckpoint(storeB, layout(), configB);
  assert.equal(own?.meta.round, 3);
  assert.equal(own.meta.attempt, result.attempt);
  assert.deepEqual(
    own.meta.history.map((r) => r.round),
    [1, 2, 3],
  );
  assert.ok(paramsAllClose(own.params, result.global, { atol: 0, rtol: 0 }));
  assert.deepEqual(own.meta.inherited, { job: a, round: 2 }, "B's checkpoint names A's rounds");
  assert.deepEqual(result.inherited, { job: a, round: 2 });
  assert.deepEqual(await bucketContents(storeA), before, "A's bucket is only read");

  // job.finished counts B's own round, as its round.finished events did, not A's two
  const bytesB = finishedAndRoundBytes(ranB.events);
  assert.deepEqual(
    ranB.events.filter((e) => e.type === "round.finished").map((e) => e.round),
    [3],
  );
  assert.deepEqual(bytesB.finished, bytesB.rounds);
  assert.deepEqual(bytesB.finished, [result.rounds[2]!.bytes.up, result.rounds[2]!.bytes.down]);
  assert.ok(
    ranA.result.rounds.every((r) => r.bytes.up + r.bytes.down > 0),
    "A's rounds sent bytes",
  );

  // on B's stream, before its first round: run.resumed from A's round 2 under B's attempt; A's
  // stream, a run from round 1, has none
  const streamB = await streamed(configB, "reader-b");
  const fromA = {
    type: "run.resumed",
    attempt: result.attempt,
    round: 2,
    bucket: storeA.bucket,
    object: checkpointObjectName(2),
    from: { job: a, bucket: storeA.bucket },
    inherited: { job: a, round: 2 },
    // A's round 2 as A announced it, from the checkpoint's history (ADR 0046, amendment 3); no
    // best: B has trained none of the rounds yet, and A's are not B's (amendment 5)
    ...roundScores(ranA.events, 2),
  };
  assert.deepEqual(resumedOf(streamB), [fromA]);
  assert.ok(
    streamB.findIndex((e) => e.type === "run.resumed") < streamB.findIndex((e) => e.type === "round.started"),
    "published before B's first round",
  );
  assert.deepEqual(resumedOf(await streamed(configA, "reader-a")), [], "A started from round 1");

  // B restarted with a fourth round resumes from its own checkpoint and still knows rounds 1–2 are A's
  const configB4 = jobConfig({ training: { rounds: 4 }, output: { resumeFrom: { job: a } } }, nameB);
  const ranB4 = await runJob(configB4);
  assert.equal(ranB4.result.resumedFrom, 3);
  assert.equal(ranB4.logs.find((l) => l.event === "resumed")?.from, undefined, "from its own checkpoint");
  const four = await readLatestCheckpoint(storeB, layout(), configB4);
  assert.equal(four?.meta.round, 4);
  assert.deepEqual(four.meta.inherited, { job: a, round: 2 }, "carried forward from B's round 3");
  const bytesB4 = finishedAndRoundBytes(ranB4.events);
  const [r3, r4] = [ranB4.result.rounds[2]!, ranB4.result.rounds[3]!];
  assert.deepEqual(
    bytesB4.finished,
    [r3.bytes.up + r4.bytes.up, r3.bytes.down + r4.bytes.down],
    "rounds 3–4",
  );
  // its restart says so on the stream too: from its own round 3, in its own bucket, A's rounds named
  assert.deepEqual(resumedOf(await streamed(configB4, "reader-b4")), [
    fromA,
    {
      type: "run.resumed",
      attempt: result.attempt,
      round: 3,
      bucket: storeB.bucket,
      object: checkpointObjectName(3),
      inherited: { job: a, round: 2 },
      ...roundScores(ranB.events, 3),
      // the best of B's own rounds up to its checkpoint: round 3, its only one (amendment 5)
      best: { round: 3, accuracy: roundScores(ranB.events, 3).accuracy },
    },
  ]);
});

const missing: [string, (source: string) => Promise<void>, RegExp][] = [
  ["a job with no bucket", async () => {}, /its bucket sfp-test_[^ ]+-artifacts does not exist/],
  [
    "a job whose bucket holds no checkpoint",
    async (source) => void (await openArtifactStore(w.nats.nc, `test_${source}`)),
    /its bucket sfp-test_[^ ]+-artifacts holds no checkpoint/,
  ],
];

for (const [what, prepare, detail] of missing) {
  test(`resumeFrom ${what} fails the job, naming spec.output.resumeFrom.job, the bucket and what to do`, async () => {
    const source = newName("gone");
    await prepare(source);
    const config = jobConfig({ output: { resumeFrom: { job: source } } }, newName("orphan"));
    const { error, failed } = await failedStart(config);
    assert.equal((error as Error | undefined)?.name, "ResumeSourceError", String(error));
    assert.ok(failed?.type === "job.failed", "job.failed was published");
    assert.equal(failed.reason, "ResumeSourceError");
    assert.match(failed.message, new RegExp(`^spec\\.output\\.resumeFrom\\.job ${source}: ${detail.source}`));
    assert.match(failed.message, /keep the source job until this one has checkpointed/);
    const own = await openArtifactStore(w.nats.nc, config.names.job);
    assert.deepEqual(await own.checkpointNames(), [], "nothing was written as if resumed");
  });
}

test("a job with resumeFrom that has a checkpoint of its own resumes from its own, not the source's", async () => {
  const source = newName("older");
  const configA = jobConfig({ training: { rounds: 5 } }, source);
  const configB = jobConfig(
    { training: { rounds: 5 }, output: { resumeFrom: { job: source } } },
    newName("own"),
  );
  const write = async (config: RunConfig, round: number): Promise<void> => {
    const store = await openArtifactStore(w.nats.nc, config.names.job);
    await writeCheckpoint(store, layout(), {
      job: config.names.job,
      method: config.method,
      round,
      history: [],
      spec: checkpointSpec(config),
      attempt: `attempt${round}`,
    });
  };
  await write(configA, 3);
  await write(configB, 1);
  const { logs, logger, seen } = logsUntil("run-attempt");
  const server = await startTestServer(configB, { nc: w.nats.nc, bundle: w.bundle.dir, logger });
  try {
    await Promise.race([seen, server.done]);
    const line = logs.find((l) => l.event === "resumed");
    assert.equal(line?.round, 1);
    assert.equal(line.from, undefined, "not from the source");
    assert.equal(server.attempt(), "attempt1", "its own checkpoint's attempt");
  } finally {
    await server.stop();
  }
});
