// A server that lingers after its job ended answers every client's poll with the end (ADR 0037, 0041).
// Against a real nats-server and a real server process, those answers are on the pod's /metrics as
// its services' answers were during the job (ADR 0017, amendments 1 and 2): each request once under
// sfprompt_request_duration_seconds{op,outcome}, each message and byte in sfprompt_process_*_total,
// each refusal in sfprompt_bad_messages_total, moved by exactly what this test sent and was answered.
import assert from "node:assert/strict";
import { test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { TrafficLedger, jobSubjects, parseChunk, requestFrame, type FrameInit } from "@sfprompt/protocol";
import { ENTRY, get, runConfig, spawnEntry, type Proc } from "../../shell/test/harness.js";
import { useProcessFixture } from "../../shell/test/process-fixture.js";
import { requestSeries, type RequestSeries } from "../../shell/test/request-histogram.js";
import { ONCE_TIMEOUT_MS } from "../../shell/test/request-once.js";
import { badMessages, peerTotals, trafficSeries } from "../../shell/test/traffic-series.js";
import { LINGER, delta, finishedJob, lingeringPort } from "./lingering-job.js";

const f = useProcessFixture();

interface Case {
  readonly name: string;
  /** What every poll is answered with once the job ended. */
  readonly action: "done" | "failed";
  /** Starts a lingering server whose job ends: resolves once its clients, if any, are gone. */
  readonly start: (name: string) => Promise<{ proc: Proc; job: string }>;
}

const CASES: readonly Case[] = [
  { name: "a job that finished", action: "done", start: (name) => finishedJob(f, name) },
  { name: "a job that failed on a model that is not mounted", action: "failed", start: failedJob },
];

for (const c of CASES) {
  test(`after ${c.name}, the lingering server's poll answers are in its request histogram and traffic counters, once each`, async () => {
    const name = `linger-polls-${c.action}`;
    const { proc, job } = await c.start(name);
    const nc = await connect({ servers: f.nats.url });
    try {
      // the end's responder listens: every poll from now on is its to answer, and no one else's
      const port = await lingeringPort(proc);
      const scrape = async (): Promise<string> => (await get(port, "/metrics")).body;
      const before = await scrape();
      // every message between this test and the server from now on, as this side counted it
      const mine = new TrafficLedger();
      const { sent, code } = await exchange(nc, job, c.action, mine);
      const after = await scrape();
      const scraped = performance.now();
      assert.equal(proc.child.exitCode, null, "the server still lingers");

      assert.deepEqual(
        countsDelta(before, after),
        expectedCounts(sent),
        "one sample per request answered, by op/outcome",
      );
      assertHistogram(before, after, bounds(sent, scraped));
      const expected = peerTotals(mine);
      for (const [family, want] of [
        ["sfprompt_process_bytes_total", expected.bytes],
        ["sfprompt_process_messages_total", expected.messages],
      ] as const) {
        const moved = delta(trafficSeries(before, family), trafficSeries(after, family));
        assert.deepEqual(moved, want, `${family}: what this test sent and received, seen from the server`);
      }
      assert.deepEqual(delta(badMessages(before), badMessages(after)), { [code]: 1 });
    } finally {
      await nc.close();
      proc.kill("SIGKILL");
    }
  });
}

/** One request this test made: the op and outcome it must be counted under, when it went and came back. */
interface Sent {
  readonly key: `${string}/${"ok" | "error"}`;
  /** performance.now() before the request was sent and once its reply was in. */
  readonly sentAt: number;
  readonly answeredAt: number;
}

/**
 * Sends what clients send a server whose job ended: both clients' polls, one poll again with the same
 * step (a retry whose reply was lost: answered from the reply cache, and counted again), a state
 * report and a frame too broken to read. Each reply to a readable frame must be the job's end.
 */
async function exchange(
  nc: NatsConnection,
  job: string,
  action: Case["action"],
  mine: TrafficLedger,
): Promise<{ sent: Sent[]; code: string }> {
  const subject = jobSubjects(job).roundReport;
  // as a client polls after round 1 (round.report, round lastRound + 1) and reports a state of it
  const poll = { round: 2, meta: { op: "poll", lastRound: 1 } };
  const state = { round: 1, meta: { op: "state", state: "local-update", round: 1 } };
  const frames: { init: Omit<FrameInit, "job">; op: "poll" | "report" }[] = [
    { init: control("client-0", 1, poll), op: "poll" },
    { init: control("client-1", 2, poll), op: "poll" },
    { init: control("client-0", 1, poll), op: "poll" },
    { init: control("client-1", 3, state), op: "report" },
  ];
  const sent: Sent[] = [];
  for (const { init, op } of frames) {
    const sentAt = performance.now();
    // no retries: a request the server received is counted once, as this side counts it once
    const reply = await requestFrame(
      nc,
      subject,
      { ...init, job },
      { timeoutMs: ONCE_TIMEOUT_MS, retries: 0, ledger: mine },
    );
    sent.push({ key: `${op}/ok`, sentAt, answeredAt: performance.now() });
    assert.equal(reply.header.meta.action, action, `${init.client}'s ${op} is answered with the end`);
  }
  // the responder listens (end-replies), so this is received once: a plain request, no resend
  const garbage = new Uint8Array([1, 2, 3]);
  const sentAt = performance.now();
  const reply = await nc.request(subject, garbage, { timeout: ONCE_TIMEOUT_MS });
  sent.push({ key: "report/error", sentAt, answeredAt: performance.now() });
  mine.record({ client: "", round: 0, kind: "invalid", direction: "sent" }, garbage.length);
  const refusal = parseChunk(reply.data).header;
  const { client, round, kind } = refusal;
  mine.record({ client, round, kind, direction: "received" }, reply.data.length);
  assert.equal(refusal.type, "error");
  return { sent, code: String(refusal.meta.code) };
}

function control(
  client: string,
  step: number,
  { round, meta }: { round: number; meta: FrameInit["meta"] },
): Omit<FrameInit, "job"> {
  return { kind: "control", client, round, step, meta };
}

/** `op/outcome` → requests sent. */
function expectedCounts(sent: readonly { key: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sent) out[s.key] = (out[s.key] ?? 0) + 1;
  return out;
}

/** `op/outcome` → samples added to the histogram between two scrapes. */
function countsDelta(before: string, after: string): Record<string, number> {
  const count = (body: string): Record<string, number> =>
    Object.fromEntries([...requestSeries(body)].map(([k, s]) => [k, s.count]));
  return delta(count(before), count(after));
}

/** A request's op/outcome and the most seconds the server can have observed it for. */
interface Bound {
  readonly key: string;
  readonly seconds: number;
}

/**
 * A server's sample runs from its request's arrival to just after its reply went out, which can be
 * after that reply reached this test; but it ends before the server takes its next message. So it lies
 * between this test's send of the request and its receipt of the next reply (of the scrape, last).
 */
function bounds(sent: readonly Sent[], scraped: number): Bound[] {
  return sent.map((s, i) => ({
    key: s.key,
    seconds: ((sent[i + 1]?.answeredAt ?? scraped) - s.sentAt) / 1000,
  }));
}

/**
 * The samples added: +Inf holds them all, their sum is at most the sum of their bounds, and a bucket
 * holds at least the requests whose bound fits under it.
 */
function assertHistogram(before: string, after: string, bound: readonly Bound[]): void {
  const was = requestSeries(before);
  const empty: RequestSeries = { count: 0, sum: 0, inf: 0, buckets: new Map() };
  for (const [key, n] of Object.entries(expectedCounts(bound))) {
    const a = requestSeries(after).get(key)!;
    const b = was.get(key) ?? empty;
    const most = bound.filter((s) => s.key === key).map((s) => s.seconds);
    assert.equal(a.inf - b.inf, n, `${key}: the +Inf bucket holds every request`);
    const sum = a.sum - b.sum;
    const limit = most.reduce((x, y) => x + y, 0);
    assert.ok(sum > 0 && sum <= limit, `${key}: handling ${sum} s, at most ${limit} s`);
    for (const [le, cumulative] of a.buckets) {
      const added = cumulative - (b.buckets.get(le) ?? 0);
      const fit = most.filter((s) => s <= Number(le)).length;
      assert.ok(added >= fit && added <= n, `${key}: bucket le=${le} got ${added}, at least ${fit}`);
    }
  }
}

/** A job whose model is not mounted: without a bundle to use, the server fails it and lingers. */
async function failedJob(name: string): Promise<{ proc: Proc; job: string }> {
  const config = runConfig({ model: { source: { path: "/nonexistent/model.onnx" } } }, name);
  const args = f.entryArgs(config, name);
  // with a bundle the model is not needed: the job must fail on resolving it
  args.splice(args.indexOf("--bundle-dir"), 2);
  return Promise.resolve({ proc: spawnEntry(ENTRY.server, args, LINGER), job: config.names.job });
}
