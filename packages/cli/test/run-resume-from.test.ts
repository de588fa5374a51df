// `sfprompt run --nats URL` of a job with spec.output.resumeFrom (ADR 0044), against a real
// nats-server: job B goes on from job A's newest checkpoint, trains only the rounds after it, says
// so (its progress names A's round 2 as soon as B's server has read it, ADR 0046), and records A's
// rounds as A's; A's run directory and bucket stay as they were. --resume on B goes on from A's
// checkpoint as well, and is refused, naming both buckets, when neither holds one.
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  checkpointObjectName,
  fetchEvents,
  openArtifactStore,
  openExistingArtifactStore,
  publishEvent,
} from "@sfprompt/protocol";
import { readJobFile, runConfigFor } from "../src/run/job-file.js";
import type { RoundMetrics, RunMetrics } from "../src/run/metrics.js";
import { formatBytes } from "@sfprompt/protocol/charts";
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob, natsRunWorld } from "./run-helpers.js";

const TRAINING = (rounds: number): string =>
  `{ rounds: ${rounds}, batchSize: 16, evaluation: { maxSamples: 50 } }`;

/** The tiny job under `name` in its own folder of `dir`, with `output` appended to its spec. */
function tinyJob(dir: string, name: string, rounds: number, output?: string): string {
  const jobDir = join(dir, name);
  mkdirSync(jobDir, { recursive: true });
  const file = writeTinyJob(jobDir, TRAINING(rounds));
  writeFileSync(file, readFileSync(file, "utf8").replace("name: tiny", `name: ${name}`));
  if (output !== undefined) appendFileSync(file, `\n  output: ${output}\n`);
  return file;
}

/** The JSON log lines of `file` with `event`. */
function logEvents(file: string, event: string): Array<Record<string, unknown>> {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === event || e.msg === event);
}

const w = natsRunWorld("cli-resume-from-");

describe("sfprompt run --nats of a job with spec.output.resumeFrom", () => {
  it("goes on from the source job's newest checkpoint, trains only its own rounds and leaves the source as it was", async () => {
    const jobA = tinyJob(w.dir, "job-a", 2);
    const outA = join(w.dir, "run-a");
    const a = sfprompt("run", jobA, "--out", outA, "--nats", w.nats.url);
    assert.equal(a.code, 0, a.stderr);
    const metricsA = readFileSync(join(outA, "metrics.json"), "utf8");
    const bucketA = runConfigFor(readJobFile(jobA), "sfprompt").names.bucket;
    const storeA = await openExistingArtifactStore(w.nc, bucketA);
    assert.ok(storeA !== null, `A's bucket ${bucketA}`);
    const objectsA = new Map((await storeA.store.list()).map((i) => [i.name, i.nuid]));

    const jobB = tinyJob(w.dir, "job-b", 3, "{ resumeFrom: { job: job-a } }");
    const outB = join(w.dir, "run-b");
    const b = sfprompt("run", jobB, "--out", outB, "--nats", w.nats.url);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /job-b: going on from job job-a's checkpoint of round 2 /);
    assert.doesNotMatch(b.stderr, /starting at round 1/);
    // the server's run.resumed: A's round 2 shows as done before B's round 3 starts, no bytes (ADR 0046)
    // with A's round 2 loss and accuracy (ADR 0046, amendment 3)
    assertResumedBefore(
      b.stderr,
      `job-b round 2/3 resumed from job job-a's round 2 ${scoresOf(outA, 2)}`,
      "job-b round 3/3",
    );

    const resumed = logEvents(join(outB, "logs", "server.log"), "resumed");
    assert.deepEqual(
      resumed.map((e) => [e.round, e.from, e.bucket]),
      [[2, "job-a", bucketA]],
      "the server went on from A's round 2, read from A's bucket",
    );
    const storeB = await openExistingArtifactStore(
      w.nc,
      runConfigFor(readJobFile(jobB), "sfprompt").names.bucket,
    );
    assert.deepEqual(
      await storeB?.checkpointNames(),
      [checkpointObjectName(3)],
      "B checkpointed round 3 only",
    );
    const [fromA, trainedA] = [readRunMetrics(outA), JSON.parse(metricsA) as RunMetrics];
    const mb = readRunMetrics(outB);
    assert.deepEqual(mb.resumedFrom, { job: "job-a", round: 2 });
    assert.deepEqual(
      mb.rounds.map((r) => [r.round, r.from]),
      [
        [1, "job-a"],
        [2, "job-a"],
        [3, undefined],
      ],
    );
    // A's rounds as A recorded them (B reads them from the history its checkpoint carries over)
    for (const r of trainedA.rounds) {
      const inB = mb.rounds.find((x) => x.round === r.round);
      assert.deepEqual([inB?.loss, inB?.bytes], [r.loss, r.bytes], `round ${r.round} as A recorded it`);
    }
    // the totals count only B's own round: A's are in the curves (marked `from`), not in B's traffic
    const sum = (rs: readonly RoundMetrics[]): number => rs.reduce((t, r) => t + r.bytes.total, 0);
    const own = mb.rounds.filter((r) => r.from === undefined);
    assert.equal(mb.final?.rounds, 3);
    assert.ok(sum(own) > 0, "B's round 3 sent bytes");
    assert.equal(mb.final?.bytes.total, sum(own));
    assert.equal(sum(mb.rounds.filter((r) => r.from === "job-a")), trainedA.final?.bytes.total);
    const note = "(rounds 1–2 were trained by job job-a, which this job went on from)";
    assert.ok(b.stdout.includes(`traffic ${formatBytes(sum(own))} over 1 round ${note}`), b.stdout);
    assert.ok(
      readFileSync(join(outB, "summary.md"), "utf8").includes(
        `${formatBytes(sum(own))} over 1 round ${note}`,
      ),
    );

    // A is as it was: its metrics, its bucket's objects, and a run of it reuses its recorded result
    assert.equal(readFileSync(join(outA, "metrics.json"), "utf8"), metricsA);
    assert.deepEqual(fromA, trainedA);
    assert.deepEqual(new Map((await storeA.store.list()).map((i) => [i.name, i.nuid])), objectsA);
    const again = sfprompt("run", jobA, "--out", outA, "--nats", w.nats.url);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      /finished its 2 rounds in an earlier session with this spec; reusing the result/,
    );
    assert.equal(readFileSync(join(outA, "metrics.json"), "utf8"), metricsA);
  });
});

/** Round `round`'s loss and accuracy as the run in `out` recorded them, in a progress line's words. */
function scoresOf(out: string, round: number): string {
  const r = readRunMetrics(out).rounds.find((x) => x.round === round);
  assert.ok(r !== undefined, `round ${round} in ${out}/metrics.json`);
  return `loss=${r.loss.toFixed(4)} accuracy=${(r.accuracy * 100).toFixed(2)}%`;
}

/** `stderr` holds the line `resumed` once, and it comes before the first line of `round`. */
function assertResumedBefore(stderr: string, resumed: string, round: string): void {
  const lines = stderr.split("\n");
  assert.deepEqual(
    lines.filter((l) => l.includes(" resumed from ")),
    [resumed],
    `one line says where the server resumed from:\n${stderr}`,
  );
  const at = lines.indexOf(resumed);
  const first = lines.findIndex((l) => l.startsWith(`${round} phase done `));
  assert.ok(first > at, `the resumed round's line comes before ${round}'s:\n${stderr}`);
}

/** The last lines of a log, for a failed assertion's message. */
function logTail(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-15).join("\n") : "(none)";
}

/** The bucket `file`'s job writes, and the one its spec.output.resumeFrom names. */
function bucketsOf(file: string): { own: string; source: string | undefined } {
  const c = runConfigFor(readJobFile(file), "sfprompt");
  return { own: c.names.bucket, source: c.output.resumeFrom?.bucket };
}

describe("sfprompt run --nats --resume of a job with spec.output.resumeFrom", () => {
  it("goes on from the source's checkpoint when the job has none of its own, and the per-method lines count its own rounds", async () => {
    const jobC = tinyJob(w.dir, "job-c", 1);
    const c = sfprompt("run", jobC, "--out", join(w.dir, "run-c"), "--nats", w.nats.url);
    assert.equal(c.code, 0, c.stderr);

    const jobD = tinyJob(w.dir, "job-d", 2, "{ resumeFrom: { job: job-c } }");
    const outD = join(w.dir, "run-d");
    const d = sfprompt(
      "run",
      jobD,
      "--out",
      outD,
      "--nats",
      w.nats.url,
      "--resume",
      "--methods",
      "centralized",
    );
    assert.equal(d.code, 0, `${d.stderr}\nserver.log ends:\n${logTail(join(outD, "logs", "server.log"))}`);
    assert.match(d.stderr, /^sfprompt: going on from job job-c's checkpoint of round 1 /m);
    assertResumedBefore(
      d.stderr,
      `sfprompt round 1/2 resumed from job job-c's round 1 ${scoresOf(join(w.dir, "run-c"), 1)}`,
      "sfprompt round 2/2",
    );
    assert.deepEqual(readRunMetrics(outD).resumedFrom, { job: "job-c", round: 1 });
    const store = await openExistingArtifactStore(w.nc, bucketsOf(jobD).own);
    assert.deepEqual(await store?.checkpointNames(), [checkpointObjectName(2)], "D trained round 2 only");
    // --compare's line per method: the job's own rounds, and the source's named
    assert.match(
      d.stderr,
      /^sfprompt: accuracy \d+\.\d\d %, traffic [\d.]+ [kM]?B over 1 round \(round 1 was trained by job job-c, which this job went on from\), \d+ s$/m,
    );
    assert.match(
      d.stderr,
      /^centralized: accuracy \d+\.\d\d %, traffic [\d.]+ [kM]?B over 2 rounds, \d+ s$/m,
    );

    // a later session with one round more goes on from D's own round 2; an event the session before
    // left unread in D's stream (published after its consumer stopped, here the run.resumed it had
    // shown) comes first, and is that session's: the progress names only this server's
    const job = runConfigFor(readJobFile(jobD), "sfprompt").names;
    const earlier = new Date().toISOString();
    const stale = await publishEvent(w.nc, {
      v: 1,
      job: job.job,
      at: earlier,
      launch: "earlier-session",
      type: "run.resumed",
      round: 1,
      bucket: bucketsOf(jobC).own,
      object: checkpointObjectName(1),
      from: { job: "job-c", bucket: bucketsOf(jobC).own },
    });
    const more = sfprompt(
      ...["run", jobD, "--out", outD, "--nats", w.nats.url, "--methods", "centralized", "--rounds", "3"],
    );
    assert.equal(
      more.code,
      0,
      `${more.stderr}\nserver.log ends:\n${logTail(join(outD, "logs", "server.log"))}`,
    );
    assertResumedBefore(
      more.stderr,
      `sfprompt round 2/3 resumed from its own checkpoint ${scoresOf(outD, 2)}`,
      "sfprompt round 3/3",
    );
    // the earlier session's event was in D's stream for this session to read, before its server's
    const inStream = await fetchEvents(w.nc, job.job, "test-reader");
    const seen = inStream.flatMap((e) =>
      e.ok && e.event.type === "run.resumed" ? [[e.seq, e.event.at]] : [],
    );
    assert.deepEqual(seen.at(-2), [stale.seq, earlier], JSON.stringify(seen));
    const own = seen.at(-1)?.[0];
    assert.ok(typeof own === "number" && own > stale.seq, "this session's server published its own after it");
    assert.deepEqual(
      readRunMetrics(outD).rounds.map((r) => [r.round, r.from]),
      [
        [1, "job-c"],
        [2, undefined],
        [3, undefined],
      ],
      "the event adds no round",
    );
  });

  it("is refused when neither the job's own bucket nor resumeFrom's holds a checkpoint, naming both", async () => {
    // a source bucket that holds no checkpoint (created, never written), and one that does not exist
    const empty = tinyJob(w.dir, "job-empty", 2);
    await openArtifactStore(w.nc, runConfigFor(readJobFile(empty), "sfprompt").names);
    for (const [source, found] of [
      ["job-empty", "it holds no checkpoint"],
      ["job-nowhere", "no such bucket"],
    ] as const) {
      const file = tinyJob(w.dir, `from-${source}`, 2, `{ resumeFrom: { job: ${source} } }`);
      const { own, source: bucket } = bucketsOf(file);
      const r = sfprompt(
        "run",
        file,
        "--out",
        join(w.dir, `run-from-${source}`),
        "--nats",
        w.nats.url,
        "--resume",
      );
      assertUserError(
        r,
        new RegExp(
          `has no checkpoint to resume: none in the job's own bucket ${own} on the --nats server, ` +
            `nor in spec\\.output\\.resumeFrom\\.job ${source}'s bucket ${bucket} \\(${found}\\); ` +
            "name a job whose bucket holds a checkpoint in spec\\.output\\.resumeFrom\\.job, or drop",
        ),
      );
      if (source === "job-nowhere")
        assert.equal(
          await openExistingArtifactStore(w.nc, bucket ?? ""),
          null,
          "the source is only read, not created",
        );
    }
  });
});
