// A second `sfprompt run` session on a job whose stream still holds events an earlier session's
// server published after that session stopped reading (a round it announced as it was stopped, whose
// checkpoint never came), against a real nats-server: JetStream delivers them to the new session
// first, and its progress shows only its own server's rounds and where that server resumed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { eventStreamName, fetchEvents, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { readJobFile, runConfigFor } from "../src/run/job-file.js";
import { EVENTS_DURABLE } from "../src/run/follow-job.js";
import { SessionEvents } from "../src/run/session-events.js";
import { natsRunWorld, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

const w = natsRunWorld("cli-earlier-events-");

/** The events of `job`'s stream so far, read by a durable of the test's own. */
async function streamEvents(job: string, reader: string): Promise<ProgressEvent[]> {
  return (await fetchEvents(w.nc, job, reader)).flatMap((d) => (d.ok ? [d.event] : []));
}

/** The plain progress lines of round `round` in `stderr`. */
function roundLines(stderr: string, round: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith(`tiny round ${round} phase done `));
}

/** A round's loss and accuracy as a progress line shows them. */
function scores(e: ProgressEvent | undefined): string {
  assert.ok(e?.type === "round.finished", "a round.finished event");
  return `loss=${e.loss.toFixed(4)} accuracy=${(e.accuracy * 100).toFixed(2)}%`;
}

/** Deliveries in the order the consumer gets them: stream sequence and launch. */
type Delivery = readonly [seq: number, launch: string | undefined];

const CASES: ReadonlyArray<{
  readonly name: string;
  readonly lastSeq: number;
  readonly deliveries: readonly Delivery[];
  readonly earlier: readonly boolean[];
}> = [
  {
    name: "events stored before the session started its server are an earlier session's, whatever their launch",
    lastSeq: 7,
    deliveries: [
      [6, "l1"],
      [7, undefined],
      [8, "l2"],
    ],
    earlier: [true, true, false],
  },
  {
    name: "a later event of a launch an earlier one came from is that launch's server, still stopping",
    lastSeq: 7,
    deliveries: [
      [7, "l1"],
      [8, "l2"],
      [9, "l1"],
      [10, undefined],
    ],
    earlier: [true, false, true, false],
  },
  {
    name: "an earlier event delivered again after this session's (its ack wait ran out) is still earlier",
    lastSeq: 3,
    deliveries: [
      [4, "l2"],
      [5, "l2"],
      [2, "l1"],
      [6, "l2"],
    ],
    earlier: [false, false, true, false],
  },
  {
    name: "in a stream that held nothing every event is this session's",
    lastSeq: 0,
    deliveries: [
      [1, "l1"],
      [2, undefined],
      [3, "l1"],
    ],
    earlier: [false, false, false],
  },
];

describe("which events are an earlier session's", () => {
  for (const c of CASES)
    it(c.name, () => {
      const session = new SessionEvents(c.lastSeq);
      const verdicts = c.deliveries.map(([seq, launch]) =>
        session.isEarlier(seq, launch === undefined ? {} : { launch }),
      );
      assert.deepEqual(verdicts, c.earlier);
    });
});

describe("sfprompt run after a session whose server's last events it did not read", () => {
  it("shows its own server's rounds only, not the earlier server's left in the stream", async () => {
    const job = writeTinyJob(w.dir);
    const out = join(w.dir, "run");
    const first = sfprompt("run", job, "--out", out, "--nats", w.nats.url, "--rounds", "1");
    assert.equal(first.code, 0, first.stderr);
    const names = runConfigFor(readJobFile(job), "sfprompt").names;
    const firstRound = (await streamEvents(names.job, "before")).find((e) => e.type === "round.finished");
    assert.ok(firstRound?.type === "round.finished", "the first session's server finished round 1");

    // what the first session's server would have published as it was stopped, after the run had
    // stopped reading: round 2 under its attempt and launch, never checkpointed (a loss no round has)
    const stale = { ...firstRound, at: new Date().toISOString(), round: 2, loss: 9.8765 };
    await publishEvent(w.nc, { ...stale, type: "round.started", selected: firstRound.participants });
    await publishEvent(w.nc, stale);

    const second = sfprompt("run", job, "--out", out, "--nats", w.nats.url, "--rounds", "2");
    assert.equal(second.code, 0, second.stderr);
    const shown = roundLines(second.stderr, "2/2");
    assert.equal(shown.length, 1, `one line for round 2, this session's:\n${second.stderr}`);
    assert.doesNotMatch(second.stderr, /loss=9\.8765/, "the earlier server's round 2 is not shown");
    const lines = second.stderr.split("\n");
    // with round 1's loss and accuracy as the first session's server announced them (ADR 0046,
    // amendment 2)
    const resumed = lines.indexOf(`tiny round 1/2 resumed from its own checkpoint ${scores(firstRound)}`);
    assert.ok(resumed >= 0 && resumed < lines.indexOf(shown[0]!), second.stderr);

    // the round the line shows is the one the job's checkpoint holds, as metrics.json records it
    const round2 = readRunMetrics(out).rounds.find((r) => r.round === 2);
    assert.ok(round2 !== undefined && round2.loss !== stale.loss, JSON.stringify(round2));
    assert.match(shown[0]!, new RegExp(` loss=${round2.loss.toFixed(4)} `));
    // and the earlier server's events were there for the second session to read, before its own
    const after = await streamEvents(names.job, "after");
    const finished = after.filter((e) => e.type === "round.finished" && e.round === 2);
    assert.equal(finished.length, 2, "round 2 by the earlier server, then by this session's");
    assert.equal(finished[0]?.launch, firstRound.launch);
    assert.notEqual(finished[1]?.launch, firstRound.launch);

    // a consumer that took none of them (the run's durable removed, as `nats consumer rm` does):
    // JetStream delivers every earlier event again, both sessions' job.finished included, and the
    // third session neither shows their rounds nor takes their end for its own
    await (await jetstreamManager(w.nc)).consumers.delete(eventStreamName(names.job), EVENTS_DURABLE);
    const third = sfprompt("run", job, "--out", out, "--nats", w.nats.url, "--rounds", "3");
    assert.equal(third.code, 0, third.stderr);
    assert.deepEqual(
      third.stderr.split("\n").filter((l) => /^tiny round \d/.test(l)),
      [
        `tiny round 2/3 resumed from its own checkpoint ${scores(finished[1])}`,
        ...roundLines(third.stderr, "3/3"),
      ],
      third.stderr,
    );
    assert.equal(roundLines(third.stderr, "3/3").length, 1, third.stderr);
    const m = readRunMetrics(out);
    assert.deepEqual([m.rounds.map((r) => r.round), m.final?.rounds], [[1, 2, 3], 3]);
  });
});
