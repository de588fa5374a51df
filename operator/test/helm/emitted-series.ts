// The series the dashboard may query, with the labels each carries in Prometheus: the names and
// labels come from real renders (the operator's /metrics registry with a job whose status has every
// field, and a job pod's ProcessMetrics after a round), plus the labels scraping adds (the
// PodMonitor's relabelling, read from the rendered chart, and the Prometheus Operator's own).
import { StatusSchema, jobToken } from "@sfprompt/api";
import { TrafficLedger } from "@sfprompt/protocol";
import { ProcessMetrics } from "../../../images/shell/src/process-metrics.js";
import { OperatorMetrics } from "../../src/metrics.js";
import { JOB_METRIC_FAMILIES, jobSamples } from "../../src/status/job-metrics.js";

/** Metric name → the label names its series carry. */
export type SeriesLabels = Map<string, Set<string>>;

/**
 * Target labels the Prometheus Operator's generated scrape config sets on every series of a
 * ServiceMonitor or PodMonitor target (besides `job` and `instance`, which Prometheus sets). With
 * honorLabels the operator's own `namespace` (the job's) wins over the target's.
 */
export const PROMETHEUS_OPERATOR_TARGET_LABELS = ["job", "instance", "namespace", "pod", "container", "endpoint"];

/** Names and label names of the samples in a text exposition (HELP/TYPE lines skipped). */
export function parseExposition(text: string): SeriesLabels {
  const out: SeriesLabels = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s/.exec(line);
    if (!m) throw new Error(`not an exposition sample line: ${line}`);
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const l of (m[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) labels.add(l[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}

/** A job by namespace and name, as the operator's series and the run config name it. */
export interface JobId {
  namespace: string;
  name: string;
}

const DEMO: JobId = { namespace: "team-a", name: "demo" };

/** The operator's /metrics as its registry renders it, with jobs whose status has every field. */
export function operatorExposition(jobs: readonly JobId[] = [DEMO]): string {
  const status = StatusSchema.parse({
    phase: "Running",
    round: 3,
    rounds: 10,
    progress: "3/10",
    metrics: { loss: 0.8, accuracy: 0.56, bestAccuracy: 0.62, bestRound: 2 },
    communication: {
      total: 4000,
      totalHuman: "3.9 KiB",
      up: 3000,
      down: 1000,
      activationsUp: 2000,
      activationsDown: 400,
      gradientsUp: 500,
      gradientsDown: 500,
      parametersUp: 500,
      parametersDown: 100,
      controlUp: 0,
      controlDown: 0,
    },
    clients: [{ index: 0, phase: "Running", state: "split-training", restarts: 0, pod: "demo-client-0" }],
  });
  const metrics = new OperatorMetrics();
  metrics.addGaugeFamilies({
    families: JOB_METRIC_FAMILIES,
    read: () => jobs.flatMap((j) => jobSamples({ ...j, status })),
  });
  return metrics.render();
}

/** A pod of `job` (its /metrics) after it saw a round finish and fail, sent traffic and made requests. */
export function processExposition(role: "server" | "client", job: JobId = DEMO): string {
  const client = role === "client" ? { client: "client-0" } : {};
  const m = new ProcessMetrics({ role, namespace: job.namespace, job: job.name, ...client });
  const at = "2026-01-01T00:00:00Z";
  const base = { v: 1 as const, job: jobToken(job.namespace, job.name), at };
  m.onEvent({ ...base, type: "round.started", round: 1, selected: ["client-0"] });
  m.onEvent({
    ...base,
    type: "round.finished",
    round: 1,
    loss: 1.5,
    accuracy: 0.5,
    participants: ["client-0"],
    samples: 10,
    bytes: { up: 100, down: 50, byKind: { activation: 120, parameters: 30 } },
    durationMs: 5,
  });
  m.onEvent({ ...base, type: "round.failed", round: 2, reason: "QuorumNotReached", message: "no quorum" });
  const ledger = new TrafficLedger();
  ledger.record({ client: "client-0", round: 1, kind: "activation", direction: "sent" }, 400);
  m.attachLedger(ledger);
  m.setReady(true);
  m.setNatsConnected(true);
  m.setNatsRtt(0.002);
  m.observeRequest("body-forward", 0.02, "ok");
  m.badMessage("bad_shape");
  m.error("nats");
  return m.render();
}

/** Adds `labels` to every series of `series`. */
function withLabels(series: SeriesLabels, labels: readonly string[]): SeriesLabels {
  return new Map([...series].map(([name, own]) => [name, new Set([...own, ...labels])]));
}

/**
 * Every series in Prometheus: the operator's (scraped by the ServiceMonitor) and the job pods' (by
 * the PodMonitor, whose relabelling adds `relabelled`, the targetLabels of the rendered PodMonitor).
 */
export function prometheusSeries(relabelled: readonly string[]): SeriesLabels {
  const operator = withLabels(parseExposition(operatorExposition()), [...PROMETHEUS_OPERATOR_TARGET_LABELS, "service"]);
  const pods = withLabels(parseExposition([processExposition("server"), processExposition("client")].join("\n")), [...PROMETHEUS_OPERATOR_TARGET_LABELS, ...relabelled]);
  for (const name of pods.keys())
    if (operator.has(name)) throw new Error(`${name} is both an operator and a job pod series`);
  return new Map([...operator, ...pods]);
}
