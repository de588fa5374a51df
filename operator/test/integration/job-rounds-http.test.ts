// The operator's read-only round views over real HTTP (rounds.json, accuracy.svg, traffic.svg), fed
// by the progress tracker from a real nats-server's JetStream stream, as the leader serves them: the
// history the stream's events give, the charts `sfprompt run` draws of it, and the same again after
// an operator restart replays the stream from its start.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jobToken } from "@sfprompt/api";
import { waitFor } from "@sfprompt/kube-testing";
import { ensureJobResources, publishEvent, type ProgressEvent } from "@sfprompt/protocol";
import { accuracySvg, trafficSvg, type ChartRun } from "@sfprompt/protocol/charts";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { createHttpApp, listen, type Listening } from "../../src/http/http-server.js";
import { mountJobRounds } from "../../src/http/job-rounds.js";
import { createLogger } from "../../src/log.js";
import { jobKey } from "../../src/names.js";
import { NatsPool } from "../../src/progress/nats-pool.js";
import { ProgressTracker } from "../../src/progress/progress-tracker.js";
import { roundsInOrder } from "../../src/progress/round-history.js";

const NAMESPACE = "team-a";
const NAME = "demo.v2";
const token = jobToken(NAMESPACE, NAME);
const log = createLogger({ level: "error" });

/** round.finished of round `r` as a server started under `launch` publishes it. */
const round = (r: number, accuracy: number, launch: string): ProgressEvent => ({
  v: 1,
  job: token,
  at: new Date(Date.UTC(2026, 10, 27, 12, r)).toISOString(),
  launch,
  type: "round.finished",
  round: r,
  loss: 2 / r,
  accuracy,
  participants: ["client-0", "client-1"],
  samples: 40,
  bytes: { up: 3000 * r, down: 1000 * r, byKind: { activation: 2500 * r, gradient: 1500 * r } },
  durationMs: 900,
});

// rounds 1-3, then a server resumed from round 2's checkpoint runs round 3 again and goes on to 4
const events: ProgressEvent[] = [
  round(1, 0.4, "first"),
  round(2, 0.55, "first"),
  round(3, 0.6, "first"),
  {
    v: 1,
    job: token,
    at: new Date().toISOString(),
    launch: "second",
    type: "run.resumed",
    round: 2,
    bucket: "b",
    object: "ckpt/2",
  },
  round(3, 0.62, "second"),
  round(4, 0.7, "second"),
];
/** The rounds as they stand after `events`: 1 and 2 of the first run, 3 and 4 of the resumed one. */
const standing = [events[0], events[1], events[4], events[5]] as Extract<
  ProgressEvent,
  { type: "round.finished" }
>[];

let nats: TestNats;
let nc: NatsConnection;

before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  await ensureJobResources(nc, token);
  for (const e of events) await publishEvent(nc, e);
});

after(async () => {
  await nc.drain();
  await nats.stop();
});

/** An operator's tracker and HTTP server following the job, as a leader that just started. */
async function startOperatorView(): Promise<{ base: string; stop: () => Promise<void> }> {
  const pool = new NatsPool(log, 5000);
  const tracker = new ProgressTracker({ pool, log, retryMs: 50, onChange: () => undefined });
  const key = jobKey(NAMESPACE, NAME);
  tracker.track(key, nats.url, token);
  await waitFor(() => tracker.snapshot(key)?.sequence === events.length, {
    timeoutMs: 10_000,
    description: "the tracker to replay the job's stream",
  });
  const app = createHttpApp({
    healthy: () => true,
    ready: () => ({ ok: true, reason: "ok" }),
    metrics: () => "",
    extend: (a) =>
      mountJobRounds(a, (namespace, name) => {
        const s = tracker.snapshot(jobKey(namespace, name));
        return s ? { method: "sfprompt", rounds: roundsInOrder(s.roundHistory) } : "not-tracked";
      }),
  });
  const http: Listening = await listen(app, "127.0.0.1", 0);
  return {
    base: `http://127.0.0.1:${http.port}`,
    stop: async () => {
      await http.close();
      await tracker.stop();
      await pool.drain();
    },
  };
}

/** What the charts are drawn from: the standing rounds as the events gave them. */
const chartRun: ChartRun = {
  job: NAME,
  method: "sfprompt",
  rounds: standing.map((e) => ({
    round: e.round,
    accuracy: e.accuracy,
    bytes: { total: e.bytes.up + e.bytes.down, byKind: e.bytes.byKind as Record<string, number> },
  })),
};

test("rounds.json holds each standing round as its latest round.finished gave it", async () => {
  const op = await startOperatorView();
  try {
    const res = await fetch(`${op.base}/jobs/${NAMESPACE}/${NAME}/rounds.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = (await res.json()) as { namespace: string; name: string; rounds: unknown[] };
    assert.equal(body.namespace, NAMESPACE);
    assert.equal(body.name, NAME);
    assert.deepEqual(
      body.rounds,
      standing.map((e) => ({
        round: e.round,
        loss: e.loss,
        accuracy: e.accuracy,
        bytes: {
          up: e.bytes.up,
          down: e.bytes.down,
          total: e.bytes.up + e.bytes.down,
          byKind: e.bytes.byKind,
        },
        clients: e.participants,
        samples: e.samples,
        durationMs: e.durationMs,
        at: e.at,
      })),
    );
  } finally {
    await op.stop();
  }
});

test("accuracy.svg and traffic.svg are the charts sfprompt run draws of the same rounds, also after a restart", async () => {
  for (const run of ["first operator", "restarted operator"]) {
    const op = await startOperatorView();
    try {
      for (const [view, expected] of [
        ["accuracy.svg", accuracySvg([chartRun])],
        ["traffic.svg", trafficSvg([chartRun])],
      ] as const) {
        const res = await fetch(`${op.base}/jobs/${NAMESPACE}/${NAME}/${view}`);
        assert.equal(res.status, 200, `${run}: ${view}`);
        assert.match(res.headers.get("content-type") ?? "", /^image\/svg\+xml/, `${run}: ${view}`);
        assert.equal(await res.text(), expected, `${run}: ${view}`);
      }
    } finally {
      await op.stop();
    }
  }
});

test("a job the operator does not follow, a bad path part and an unknown view are answered in JSON", async () => {
  const op = await startOperatorView();
  try {
    const cases: { name: string; path: string; status: number; error: RegExp }[] = [
      {
        name: "an untracked job is 404 naming the job",
        path: `/jobs/${NAMESPACE}/other/rounds.json`,
        status: 404,
        error: /job team-a\/other is not tracked/,
      },
      {
        name: "a namespace that is no DNS-1123 label is 400 naming it",
        path: `/jobs/Team_A/${NAME}/accuracy.svg`,
        status: 400,
        error: /namespace "Team_A" is not a Kubernetes namespace name/,
      },
      {
        name: "a name that is no DNS-1123 subdomain is 400 naming it",
        path: `/jobs/${NAMESPACE}/-demo/traffic.svg`,
        status: 400,
        error: /name "-demo" is not an SFPromptJob name/,
      },
      {
        name: "an unknown view is 404 listing the views",
        path: `/jobs/${NAMESPACE}/${NAME}/loss.svg`,
        status: 404,
        error: /use rounds\.json, accuracy\.svg or traffic\.svg/,
      },
    ];
    for (const c of cases) {
      const res = await fetch(`${op.base}${c.path}`);
      assert.equal(res.status, c.status, c.name);
      const body = (await res.json()) as { error: string };
      assert.match(body.error, c.error, c.name);
    }
  } finally {
    await op.stop();
  }
});
