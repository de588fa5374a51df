// The operator's rounds views after the job's event stream was lost (ADR 0046, amendment 6), across
// the real parts: a real nats-server with JetStream, the job's real server and clients (run in this
// process on the tiny bundle) training 3 rounds and checkpointing them, the stream deleted and made
// again (a NATS without persistence restarted; the checkpoints in the Object Store stay), the server
// started again for a 4th round, and the operator's progress tracker and HTTP views following the new
// stream only, as the leader serves them. rounds.json and the charts hold rounds 1–3 as their
// round.finished gave them (from the checkpoint's history, in run.history) and round 4, as they would
// from the whole stream; a restarted operator replays the same. The status's bytes and each client's
// last round tell what an operator that followed both runs' streams tells, at the resume (rounds 1–3's)
// and after round 4 before job.finished (the job's totals, not round 4's alone; amendment 7).
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { waitFor } from "@sfprompt/kube-testing";
import {
  ensureJobResources,
  eventStreamName,
  fetchEvents,
  type ProgressEvent,
  type RoundFinished,
} from "@sfprompt/protocol";
import { accuracySvg, trafficSvg } from "@sfprompt/protocol/charts";
import { jobConfig, natsAndBundleHooks } from "../../../packages/sfprompt/test/runtime/job-fixture.js";
import { jobRuns } from "../../../packages/sfprompt/test/runtime/job-runs.js";
import { createHttpApp, listen } from "../../src/http/http-server.js";
import { mountJobRounds } from "../../src/http/job-rounds.js";
import { createLogger } from "../../src/log.js";
import { jobKey } from "../../src/names.js";
import { NatsPool } from "../../src/progress/nats-pool.js";
import { ProgressTracker } from "../../src/progress/progress-tracker.js";
import { applyProgressEvent } from "../../src/progress/events.js";
import { roundsInOrder, type RoundRecord } from "../../src/progress/round-history.js";
import { emptySnapshot, type ProgressSnapshot } from "../../src/progress/snapshot.js";
import { communicationOf } from "../../src/status/communication.js";

const w = natsAndBundleHooks();
const { newName, runJob } = jobRuns(w);
const log = createLogger({ level: "error" });
const NAMESPACE = "test"; // jobConfig's

const finishedOf = (events: readonly ProgressEvent[]): RoundFinished[] =>
  events.filter((e): e is RoundFinished => e.type === "round.finished");

/** The operator's tracker and HTTP views following job `name` (data-plane token `token`), as a leader. */
async function operatorView(
  name: string,
  token: string,
): Promise<{ tracker: ProgressTracker; get: (view: string) => Promise<string>; stop: () => Promise<void> }> {
  const pool = new NatsPool(log, 5000);
  const tracker = new ProgressTracker({ pool, log, retryMs: 50, onChange: () => undefined });
  tracker.track(jobKey(NAMESPACE, name), w.nats.server.url, token);
  const app = createHttpApp({
    healthy: () => true,
    ready: () => ({ ok: true, reason: "ok" }),
    metrics: () => "",
    extend: (a) =>
      mountJobRounds(a, (namespace, n) => {
        const s = tracker.snapshot(jobKey(namespace, n));
        return s ? { method: "sfprompt", rounds: roundsInOrder(s.roundHistory) } : "not-tracked";
      }),
  });
  const http = await listen(app, "127.0.0.1", 0);
  return {
    tracker,
    get: async (view) => {
      const res = await fetch(`http://127.0.0.1:${http.port}/jobs/${NAMESPACE}/${name}/${view}`);
      assert.equal(res.status, 200, `${view}: ${res.status}`);
      return res.text();
    },
    stop: async () => {
      await http.close();
      await tracker.stop();
      await pool.drain();
    },
  };
}

/** The events of job `token`'s stream as it holds them now, read by a consumer of its own (`reader`). */
async function streamEvents(token: string, reader: string): Promise<ProgressEvent[]> {
  const deliveries = await fetchEvents(w.nats.nc, token, reader, { max: 1000 });
  return deliveries.flatMap((d) => (d.ok ? [d.event] : []));
}

/** What the operator's fold (the tracker's) makes of `events`, in their order. */
const fold = (events: readonly ProgressEvent[]): ProgressSnapshot =>
  events.reduce((s, e, i) => applyProgressEvent(s, e, i + 1), emptySnapshot());

/**
 * What the job's status takes from the progress view besides the round and metrics: the bytes
 * (status.communication) and each client's lastRound, samples and kept (status.clients).
 */
function statusPart(s: ProgressSnapshot | undefined): unknown {
  assert.ok(s, "a progress view");
  const clients = Object.entries(s.clients)
    .map(([index, c]) => ({ index: Number(index), lastRound: c.lastRound, samples: c.samples, kept: c.kept }))
    .sort((a, b) => a.index - b.index);
  return { round: s.round, communication: communicationOf(s), clients };
}

/** statusPart without the clients' samples and kept, which a checkpoint's history does not hold. */
function roundsPart(s: ProgressSnapshot | undefined): unknown {
  const { clients, ...rest } = statusPart(s) as { clients: { samples?: number; kept?: number }[] };
  return { ...rest, clients: clients.map(({ samples: _s, kept: _k, ...c }) => c) };
}

/** A round as rounds.json shows it, from its round.finished, dated `at`. */
function recordOf(e: RoundFinished, at: string): RoundRecord {
  const byKind: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.bytes.byKind)) if (v !== undefined) byKind[k] = v;
  return {
    round: e.round,
    loss: e.loss,
    accuracy: e.accuracy,
    bytes: { up: e.bytes.up, down: e.bytes.down, total: e.bytes.up + e.bytes.down, byKind },
    clients: [...e.participants],
    samples: e.samples,
    durationMs: e.durationMs,
    at,
  };
}

test("after the job's event stream was lost and its server went on from the round-3 checkpoint, rounds.json and the charts hold rounds 1–3 as their round.finished gave them, and round 4", async () => {
  const name = newName("lost-rounds");
  // evaluated in rounds 2 and 3 (the last): round 1's accuracy is the 0 its round.finished said
  const spec = { training: { evaluation: { everyRounds: 2 } } };
  const config3 = jobConfig({ training: { ...spec.training, rounds: 3 } }, name);
  const token = config3.names.job;
  const first = await runJob(config3);
  const before = finishedOf(first.events);
  assert.deepEqual(
    before.map((e) => e.round),
    [1, 2, 3],
  );

  const key = jobKey(NAMESPACE, name);
  // an independent oracle: the views of an operator that followed the first run's whole stream
  const whole = await operatorView(name, token);
  let followedWhole: RoundRecord[];
  let wholeView: ProgressSnapshot | undefined;
  try {
    await waitFor(() => whole.tracker.snapshot(key)?.outcome?.kind === "completed", {
      timeoutMs: 20_000,
      description: "a tracker to fold the first run's stream",
    });
    followedWhole = (JSON.parse(await whole.get("rounds.json")) as { rounds: RoundRecord[] }).rounds;
    wholeView = whole.tracker.snapshot(key);
  } finally {
    await whole.stop();
  }
  assert.deepEqual(
    followedWhole.map((r) => r.round),
    [1, 2, 3],
  );

  // the first run's stream as it was, for an operator that follows the job on without a loss
  const firstStream = await streamEvents(token, "reader-first");
  assert.equal(firstStream.at(-1)?.type, "job.finished");

  // the stream is lost; the checkpoints (Object Store) are not
  await (await jetstreamManager(w.nats.nc)).streams.delete(eventStreamName(token));
  await ensureJobResources(w.nats.nc, token);

  const op = await operatorView(name, token);
  // stopped before the file's nats-server is (its hooks run after the test)
  let stopOp: (() => Promise<void>) | undefined = op.stop;
  try {
    await resumeAndCheck();
  } finally {
    await stopOp?.();
  }

  async function resumeAndCheck(): Promise<void> {
    const config4 = jobConfig({ training: { ...spec.training, rounds: 4 } }, name);
    const secondStart = new Date().toISOString();
    const second = await runJob(config4);
    assert.equal(second.result.resumedFrom, 3);
    const stream = await streamEvents(token, "reader");
    assert.deepEqual(
      finishedOf(stream).map((e) => e.round),
      [4],
      "the followed stream holds round 4's round.finished only",
    );
    await waitFor(() => op.tracker.snapshot(key)?.outcome?.kind === "completed", {
      timeoutMs: 20_000,
      description: "the tracker to fold the job's end",
    });
    const end = op.tracker.snapshot(key);
    checkStatus(stream, end);

    const body = JSON.parse(await op.get("rounds.json")) as { rounds: RoundRecord[] };
    assert.deepEqual(
      body.rounds.map((r) => r.round),
      [1, 2, 3, 4],
      "the rounds up to the checkpoint, and round 4",
    );
    // rounds 1–3 as an operator that followed the whole stream showed them (all but their dates: the
    // checkpoint dates a round when the server aggregated it, the stream when it published it)
    const undated = ({ at: _at, ...r }: RoundRecord) => r;
    assert.deepEqual(body.rounds.slice(0, 3).map(undated), followedWhole.map(undated));
    // rounds 1–3 as their round.finished gave them, dated when the server aggregated them (before it
    // published round.finished, and before the second server started)
    const round4 = finishedOf(stream)[0]!;
    const want = [...before.map((e, i) => recordOf(e, body.rounds[i]!.at)), recordOf(round4, round4.at)];
    assert.deepEqual(body.rounds, want);
    for (const [i, e] of before.entries()) {
      const at = Date.parse(body.rounds[i]!.at);
      assert.ok(
        at <= Date.parse(e.at) && at >= Date.parse(e.at) - 5000,
        `round ${e.round} dated ${body.rounds[i]!.at}, its round.finished ${e.at}`,
      );
      assert.ok(at < Date.parse(secondStart), `round ${e.round} is dated before the second server started`);
    }
    // the charts are drawn from the same four rounds
    const run = { job: name, method: "sfprompt", rounds: want };
    assert.equal(await op.get("accuracy.svg"), accuracySvg([run]));
    assert.equal(await op.get("traffic.svg"), trafficSvg([run]));

    // an operator started again (a new leader) replays the stream from its start to the same views
    await op.stop();
    stopOp = undefined;
    const again = await operatorView(name, token);
    stopOp = again.stop;
    await waitFor(() => again.tracker.snapshot(key)?.outcome?.kind === "completed", {
      timeoutMs: 20_000,
      description: "the new tracker to replay the job's stream",
    });
    assert.deepEqual(JSON.parse(await again.get("rounds.json")), body);
    assert.deepEqual(statusPart(again.tracker.snapshot(key)), statusPart(end));
  }

  /**
   * The status's bytes and clients from the new stream `stream` tell what an operator that followed
   * the whole stream tells, at the resume, before the job's end and at it (`end`, the tracker's view).
   */
  function checkStatus(stream: readonly ProgressEvent[], end: ProgressSnapshot | undefined): void {
    const resumed = stream.findIndex((e) => e.type === "run.resumed");
    const finished = stream.findIndex((e) => e.type === "job.finished");
    assert.ok(
      stream.slice(0, resumed).some((e) => e.type === "run.history"),
      "run.history before run.resumed",
    );
    assert.ok(finished > resumed);
    // at the resume, before round 4: rounds 1–3's bytes (the first run's job.finished counted them)
    // and each client's last round among them, as the operator that followed them shows
    assert.deepEqual(
      roundsPart(fold(stream.slice(0, resumed + 1))),
      roundsPart(wholeView),
      "the status at the resume, as the operator that followed rounds 1–3 showed it at their end",
    );
    // after round 4, before job.finished: rounds 1–4's bytes, the job's own totals as its server
    // then counted them (job.finished), not round 4's alone
    const beforeEnd = fold(stream.slice(0, finished));
    assert.equal(beforeEnd.round, 4);
    assert.deepEqual(communicationOf(beforeEnd), communicationOf(end));
    // an operator that followed both runs' streams, with no loss between them, shows the same
    const followed = [...firstStream.filter((e) => e.type !== "job.finished"), ...stream];
    assert.deepEqual(
      statusPart(fold(followed.slice(0, firstStream.length - 1 + finished))),
      statusPart(beforeEnd),
    );
    assert.deepEqual(statusPart(fold(followed)), statusPart(end));
  }
});
