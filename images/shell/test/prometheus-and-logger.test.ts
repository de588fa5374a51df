// The Prometheus text the /metrics endpoint serves, the process metric families fed by progress
// events and ledgers, and the JSON-lines logger.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TrafficLedger } from "@sfprompt/protocol";
import { ProcessMetrics, Registry, createLogger } from "../src/index.js";

describe("Registry", () => {
  test("renders HELP, TYPE, labelled samples, escaped label values and histogram buckets", () => {
    const r = new Registry();
    r.counter("a_total", "A counter.").inc({ kind: 'x"y' }, 2);
    r.gauge("b", "A gauge.").set({}, 0.5);
    const h = r.histogram("c_seconds", "A histogram.", [0.1, 1]);
    h.observe({ op: "fwd" }, 0.05);
    h.observe({ op: "fwd" }, 0.5);
    h.observe({ op: "fwd" }, 3);
    r.gauge("d", "Empty.");
    assert.equal(
      r.render(),
      [
        "# HELP a_total A counter.",
        "# TYPE a_total counter",
        'a_total{kind="x\\"y"} 2',
        "# HELP b A gauge.",
        "# TYPE b gauge",
        "b 0.5",
        "# HELP c_seconds A histogram.",
        "# TYPE c_seconds histogram",
        'c_seconds_bucket{op="fwd",le="0.1"} 1',
        'c_seconds_bucket{op="fwd",le="1"} 2',
        'c_seconds_bucket{op="fwd",le="+Inf"} 3',
        'c_seconds_sum{op="fwd"} 3.55',
        'c_seconds_count{op="fwd"} 3',
        "# HELP d Empty.",
        "# TYPE d gauge",
        "",
      ].join("\n"),
    );
  });

  test("refuses a counter going down and a family registered twice", () => {
    const r = new Registry();
    assert.throws(() => r.counter("x_total", "X.").inc({}, -1), RangeError);
    assert.throws(() => r.gauge("x_total", "again"), /registered twice/);
  });
});

describe("ProcessMetrics", () => {
  const at = "2026-01-01T00:00:00Z";
  test("folds round events and a ledger into rounds, loss, accuracy and bytes", () => {
    const m = new ProcessMetrics({ role: "server", namespace: "ns", job: "j" });
    m.onEvent({ v: 1, job: "ns_j", at, type: "round.started", round: 1, selected: ["client-0"] });
    for (const [round, loss, accuracy] of [
      [1, 2.5, 0.25],
      [2, 1.5, 0.5],
    ] as const) {
      m.onEvent({
        v: 1,
        job: "ns_j",
        at,
        type: "round.finished",
        round,
        loss,
        accuracy,
        participants: ["client-0"],
        samples: 10,
        bytes: { up: 100, down: 50, byKind: { activation: 120, parameters: 30 } },
        durationMs: 5,
      });
    }
    const ledger = new TrafficLedger();
    ledger.record({ client: "client-0", round: 1, kind: "activation", direction: "received" }, 400);
    ledger.record({ client: "client-1", round: 1, kind: "activation", direction: "received" }, 600);
    m.attachLedger(ledger);
    m.badMessage("bad_shape", 2);
    const text = m.render();
    const value = (s: string): number | undefined => {
      const line = text.split("\n").find((l) => l.startsWith(`${s} `));
      return line === undefined ? undefined : Number(line.slice(s.length + 1));
    };
    assert.equal(value("sfprompt_rounds_done_total"), 2);
    assert.equal(value("sfprompt_round"), 1);
    assert.equal(value("sfprompt_loss"), 1.5);
    assert.equal(value("sfprompt_accuracy"), 0.5);
    assert.equal(value('sfprompt_job_bytes_total{kind="activation"}'), 240);
    assert.equal(value('sfprompt_job_bytes_total{kind="parameters"}'), 60);
    assert.equal(value('sfprompt_process_bytes_total{kind="activation",direction="received"}'), 1000);
    assert.equal(value('sfprompt_process_messages_total{kind="activation",direction="received"}'), 2);
    assert.equal(value('sfprompt_bad_messages_total{reason="bad_shape"}'), 2);
    assert.equal(value('sfprompt_process_info{role="server",namespace="ns",sfprompt_job="j"}'), 1);
    assert.equal(value("sfprompt_ready"), 0);
  });

  test("a resumed server's round gauge shows the checkpoint's round until its next round starts", () => {
    const m = new ProcessMetrics({ role: "server", namespace: "ns", job: "b" });
    const round = (): number | undefined => {
      const line = m
        .render()
        .split("\n")
        .find((l) => l.startsWith("sfprompt_round "));
      return line === undefined ? undefined : Number(line.slice("sfprompt_round ".length));
    };
    m.onEvent({
      v: 1,
      job: "ns_b",
      at,
      type: "run.resumed",
      round: 2,
      bucket: "sfp-ns_a-artifacts",
      object: "checkpoints/round-000002",
      from: { job: "ns_a", bucket: "sfp-ns_a-artifacts" },
      inherited: { job: "ns_a", round: 2 },
    });
    assert.equal(round(), 2);
    assert.equal(m.render().includes('sfprompt_events_total{type="run.resumed"} 1'), true, m.render());
    m.onEvent({ v: 1, job: "ns_b", at, type: "round.started", round: 3, selected: ["client-0"] });
    assert.equal(round(), 3);
  });
});

describe("createLogger", () => {
  test("writes one JSON object per line with base, child and event fields, dropping lower levels", () => {
    const lines: string[] = [];
    const now = (): Date => new Date("2026-01-01T00:00:00.000Z");
    const root = createLogger({
      level: "info",
      write: (l) => lines.push(l),
      fields: { job: "ns_j", role: "client" },
      now,
    });
    const child = root.child({ client: "client-1" });
    child.log("debug", "dropped");
    child.log("info", "round.start", { round: 3 });
    root.log("error", "failed", { error: new Error("boom", { cause: "disk" }) });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    root.log("warn", "cyclic", { cyclic });
    assert.deepEqual(
      lines.slice(0, 2).map((l) => JSON.parse(l)),
      [
        {
          at: "2026-01-01T00:00:00.000Z",
          level: "info",
          event: "round.start",
          job: "ns_j",
          role: "client",
          client: "client-1",
          round: 3,
        },
        {
          at: "2026-01-01T00:00:00.000Z",
          level: "error",
          event: "failed",
          job: "ns_j",
          role: "client",
          error: { name: "Error", message: "boom", cause: "disk" },
        },
      ],
    );
    // a field that cannot be serialised still gives a line, saying why
    const third = JSON.parse(lines[2]!) as Record<string, string>;
    assert.deepEqual(Object.keys(third), ["at", "level", "event", "logError"]);
    assert.equal(third.event, "cyclic");
    assert.match(third.logError!, /circular/i);
  });
});
