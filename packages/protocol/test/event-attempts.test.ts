// Run attempts and per-type subjects of progress events (ADR 0036), against a real nats-server: a run
// started over in the same stream is not taken for a repeat of the one before, and a listener on the
// job-end subject receives the job's end and nothing else.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import {
  attemptVerdict,
  enterAttempt,
  ensureJobResources,
  eventDedupId,
  eventStreamName,
  fetchEvents,
  jobSubjects,
  MAX_EARLIER_ATTEMPTS,
  NO_ATTEMPTS,
  parseEvent,
  publishEvent,
  type AttemptView,
  type ProgressEvent,
} from "@sfprompt/protocol";
import { connect } from "@nats-io/transport-node";
import { useNats } from "./nats-hooks.js";

const nats = useNats();

const at = "2026-11-27T03:00:00.000Z";
const bytes = { up: 10, down: 20, byKind: { activation: 30 } };

/** The events a run of `rounds` rounds publishes under `attempt` (undefined: an older server). */
function run(job: string, attempt: string | undefined, rounds: number, accuracy: number): ProgressEvent[] {
  const a = attempt === undefined ? {} : { attempt };
  const out: ProgressEvent[] = [];
  for (let round = 1; round <= rounds; round++) {
    out.push({ v: 1, job, at, ...a, type: "round.started", round, selected: ["client-0"] });
    out.push({
      v: 1,
      job,
      at,
      ...a,
      type: "client.state",
      client: "client-0",
      state: "split-training",
      round,
    });
    out.push({
      v: 1,
      job,
      at,
      ...a,
      type: "round.finished",
      round,
      loss: 1 / round,
      accuracy: accuracy * round,
      participants: ["client-0"],
      samples: 5,
      bytes: { ...bytes, up: bytes.up * round },
      durationMs: 7,
    });
  }
  out.push({ v: 1, job, at, ...a, type: "job.finished", rounds, loss: 1 / rounds, accuracy, bytes });
  return out;
}

async function publishAll(events: ProgressEvent[]): Promise<boolean[]> {
  const dup: boolean[] = [];
  for (const e of events) dup.push((await publishEvent(nats.nc, e)).duplicate);
  return dup;
}

async function streamed(job: string): Promise<ProgressEvent[]> {
  const got = await fetchEvents(nats.nc, job, `read-${Date.now()}`, { max: 1000 });
  return got.flatMap((d) => (d.ok ? [d.event] : []));
}

describe("run attempts in the job's stream", () => {
  it("keep every event of a run started over within the duplicate window, and drop a resumed server's repeats", async () => {
    const job = "attempts-a";
    await ensureJobResources(nats.nc, job);
    assert.deepEqual(await publishAll(run(job, "first", 3, 0.2)), Array(10).fill(false));
    // the same attempt again (a server that resumed and republishes its rounds): duplicates, but
    // the client states, which may repeat
    const again = await publishAll(run(job, "first", 3, 0.2));
    assert.deepEqual(
      again.map((d, i) => (run(job, "first", 3, 0.2)[i]!.type === "client.state" ? !d : d)),
      Array(10).fill(true),
    );
    // a fresh run: nothing of it is a duplicate
    const fresh = run(job, "second", 2, 0.3);
    assert.deepEqual(await publishAll(fresh), Array(fresh.length).fill(false));
    const events = await streamed(job);
    const finished = events.filter((e) => e.type === "round.finished");
    assert.deepEqual(
      finished.map((e) => [e.attempt, e.round]),
      [
        ["first", 1],
        ["first", 2],
        ["first", 3],
        ["second", 1],
        ["second", 2],
      ],
    );
    assert.deepEqual(
      events.filter((e) => e.type === "job.finished").map((e) => e.attempt),
      ["first", "second"],
    );
  });

  it("parse and de-duplicate events of older servers, which carry no attempt, as before", async () => {
    const job = "attempts-legacy";
    await ensureJobResources(nats.nc, job);
    const legacy = run(job, undefined, 1, 0.5);
    const raw = JSON.parse(JSON.stringify(legacy[2])) as unknown;
    assert.equal(parseEvent(raw).attempt, undefined);
    await publishAll(legacy);
    assert.deepEqual(
      (await publishAll(legacy)).filter((d, i) => legacy[i]!.type !== "client.state"),
      [true, true, true],
    );
    assert.equal((await streamed(job)).filter((e) => e.type === "round.finished").length, 1);
  });

  it("keep the rounds a resumed server runs again (a new launch) and drop one server's own repeats", async () => {
    const job = "attempts-launch";
    await ensureJobResources(nats.nc, job);
    const launched = (launch: string, accuracy: number): ProgressEvent[] =>
      run(job, "first", 3, accuracy).map((e) => ({ ...e, launch }));
    const first = launched("one", 0.2).filter((e) => e.type !== "client.state");
    assert.deepEqual(await publishAll(first), Array(first.length).fill(false));
    // the same server retrying what it published: all duplicates
    assert.deepEqual(await publishAll(first), Array(first.length).fill(true));
    // a server resumed from round 2's checkpoint runs round 3 again, under the same attempt
    const rerun = launched("two", 0.25).filter(
      (e) => e.type === "job.finished" || ("round" in e && e.round === 3 && e.type !== "client.state"),
    );
    assert.deepEqual(
      (await publishAll(rerun)).map((d, i) => [rerun[i]!.type, d]),
      [
        ["round.started", false],
        ["round.finished", false],
        // the job ends once per attempt, whichever server says so
        ["job.finished", true],
      ],
    );
    const round3 = (await streamed(job)).filter((e) => e.type === "round.finished" && e.round === 3);
    assert.deepEqual(
      round3.map((e) => [e.launch, e.type === "round.finished" ? e.accuracy : undefined]),
      [
        ["one", 0.2 * 3],
        ["two", 0.25 * 3],
      ],
    );
  });

  it("refuse an attempt that is no token", () => {
    const e = { ...run("j", "ok", 1, 0.5)[0]!, attempt: "a.b" };
    assert.throws(() => parseEvent(e), /attempt|letters/);
  });
});

describe("per-type event subjects", () => {
  it("give a listener on the job-end subject the job's end and no round or client-state event", async () => {
    const job = "subjects-a";
    await ensureJobResources(nats.nc, job);
    // the client's own connection, so its received bytes are the subscription's alone
    const client = await connect({ servers: nats.server.url });
    try {
      const got: string[] = [];
      const sub = client.subscribe(jobSubjects(job).jobEnd, {
        callback: (_err, msg) =>
          void got.push(parseEvent(JSON.parse(new TextDecoder().decode(msg.data))).type),
      });
      await client.flush();
      const events = [
        ...run(job, "x", 4, 0.1),
        { v: 1, job, at, attempt: "x", type: "job.failed", reason: "Stopped", message: "m" } as ProgressEvent,
      ];
      await publishAll(events);
      await nats.nc.flush();
      await client.flush();
      sub.unsubscribe();
      assert.deepEqual(got, ["job.finished", "job.failed"]);
      const { inMsgs, inBytes } = client.stats();
      assert.equal(inMsgs, 2);
      // each end event's JSON and its header block (the Nats-Msg-Id the stream de-duplicates on)
      const endBytes = events
        .filter((e) => e.type.startsWith("job."))
        .reduce(
          (n, e) =>
            n +
            JSON.stringify(parseEvent(e)).length +
            `NATS/1.0\r\nNats-Msg-Id: ${eventDedupId(e)}\r\n\r\n`.length,
          0,
        );
      assert.equal(inBytes, endBytes, "the client received the end events' bytes and no others");
      // the stream keeps every event, whatever its subject
      assert.equal((await streamed(job)).length, events.length);
    } finally {
      await client.close();
    }
  });

  it("are added to a stream an older server made on the plain events subject, whose events stay readable", async () => {
    const job = "subjects-legacy";
    const jsm = await jetstreamManager(nats.nc);
    const plain = `sfp.${job}.events`;
    await jsm.streams.add({ name: eventStreamName(job), subjects: [plain], storage: StorageType.File });
    const old = run(job, undefined, 1, 0.4)[2]!;
    await jetstream(nats.nc).publish(plain, JSON.stringify(old));
    await ensureJobResources(nats.nc, job);
    const info = await jsm.streams.info(eventStreamName(job));
    assert.deepEqual(info.config.subjects, [plain, jobSubjects(job).allEvents]);
    const fresh = run(job, "new", 1, 0.6);
    await publishAll(fresh);
    const events = await streamed(job);
    assert.deepEqual(
      events.map((e) => [e.type, e.attempt ?? null]),
      [["round.finished", null], ...fresh.map((e) => [e.type, "new"])],
    );
  });
});

describe("the attempt a consumer follows", () => {
  const view = (current: string | undefined, earlier: string[] = []): AttemptView => ({ current, earlier });
  const cases: { name: string; view: AttemptView; attempt: string | undefined; verdict: string }[] = [
    {
      name: "an event without an attempt is folded into whatever is followed",
      view: view("a"),
      attempt: undefined,
      verdict: "current",
    },
    { name: "the first attempt seen is a new one", view: NO_ATTEMPTS, attempt: "a", verdict: "new" },
    { name: "the followed attempt is current", view: view("a"), attempt: "a", verdict: "current" },
    { name: "another attempt is a new one", view: view("a"), attempt: "b", verdict: "new" },
    { name: "a replaced attempt is stale", view: view("b", ["a"]), attempt: "a", verdict: "stale" },
  ];
  for (const c of cases)
    it(c.name, () => assert.equal(attemptVerdict(c.view, { attempt: c.attempt }), c.verdict));

  it("remembers the attempts it replaced, the latest ones when there were many", () => {
    let v: AttemptView = NO_ATTEMPTS;
    const names = Array.from({ length: MAX_EARLIER_ATTEMPTS + 5 }, (_, i) => `a${i}`);
    for (const n of names) v = enterAttempt(v, n);
    assert.equal(v.current, names.at(-1));
    assert.deepEqual(v.earlier, names.slice(-MAX_EARLIER_ATTEMPTS - 1, -1));
    assert.equal(attemptVerdict(v, { attempt: names.at(-2) }), "stale");
  });
});
