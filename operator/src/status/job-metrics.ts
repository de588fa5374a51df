// Per-job gauges for the operator's /metrics, read from each job's stored status at scrape time (in
// the style of kube-state-metrics): a job's series exist while the job does, with the status's units.
import type { KubernetesObject } from "@kubernetes/client-node";
import { CLIENT_STATUS_STATES, PHASES, type Communication, type Status } from "@sfprompt/api";
import type { NamedSample } from "../metrics.js";
import { readStoredStatus, usableStatus, type StatusIssue } from "./stored-status.js";

/**
 * What jobSamples reads of a job: its name and its status as the API's schema gives it (of one
 * that does not read, what of it reads, as the reconciler builds on it).
 */
export interface JobForMetrics {
  namespace: string;
  name: string;
  status?: Status;
  /** The stored status has a phase that does not read as one of the API's: the phase is Unknown. */
  unknownPhase?: boolean;
}

/**
 * The phase label's values: the API's phases, and Unknown for a stored phase that is none of them
 * (as kube-state-metrics' pod phase has Unknown when the state could not be obtained).
 */
export const PHASE_LABELS = [...PHASES, "Unknown"] as const;

export type PhaseLabel = (typeof PHASE_LABELS)[number];

/** The job's phase label: its status.phase, Unknown if that does not read, none before one is written. */
export function phaseLabel(job: Pick<JobForMetrics, "status" | "unknownPhase">): PhaseLabel | undefined {
  return job.unknownPhase ? "Unknown" : job.status?.phase;
}

/**
 * Labels: `namespace` and `sfprompt_job` (the job's name), not `job`: Prometheus sets `job` on every
 * series it scrapes (the scrape job), which would rename or replace ours (kube-state-metrics says
 * `job_name` for Jobs for the same reason). `sfprompt_job` is the label the chart's PodMonitor gives
 * the job's own pods' series (from their sfprompt.io/job-name annotation, the full name, which the
 * sfprompt.io/job label cuts past 63 characters), so the two join for every job name.
 */
export const JOB_METRIC_FAMILIES = [
  {
    name: "sfprompt_job_phase",
    help: "1 for the job's status.phase (what kubectl get shows), 0 for each other phase (Pending, Running, Suspended, Succeeded, Failed, Unknown); Unknown: the stored phase is none the operator knows; all 0 before the operator wrote a phase.",
  },
  { name: "sfprompt_job_round", help: "Rounds completed (status.round)." },
  {
    name: "sfprompt_job_rounds",
    help: "Rounds in total (status.rounds: spec.training.rounds; once finished, the rounds the job ran with).",
  },
  {
    name: "sfprompt_job_loss",
    help: "Mean training loss of the last finished round (status.metrics.loss), the model's own loss unit.",
  },
  {
    name: "sfprompt_job_accuracy",
    help: "Held-out accuracy of the last evaluation as a fraction from 0 to 1, not percent (status.metrics.accuracy).",
  },
  {
    name: "sfprompt_job_best_accuracy",
    help: "Best held-out accuracy of the rounds as they stand, a fraction from 0 to 1 (status.metrics.bestAccuracy).",
  },
  { name: "sfprompt_job_best_round", help: "Round of the best accuracy (status.metrics.bestRound)." },
  {
    name: "sfprompt_job_bytes",
    help: "Bytes sent over NATS so far by direction, up: client to server (status.communication.up, down); a gauge: re-run rounds after a resume replace their counts, a new run attempt starts from 0.",
  },
  {
    name: "sfprompt_job_bytes_by_kind",
    help: "Bytes sent over NATS so far by kind and direction (status.communication.<kind>Up, <kind>Down); absent when the server did not report the split.",
  },
  {
    name: "sfprompt_job_clients",
    help: "Clients by status.clients[].state (every state listed, 0 where no client is in it).",
  },
] as const;

type FamilyName = (typeof JOB_METRIC_FAMILIES)[number]["name"];

const KINDS = ["activations", "gradients", "parameters", "control"] as const;

function bytesByKind(c: Communication): { kind: string; direction: string; value: number }[] {
  return KINDS.flatMap((kind) =>
    (["up", "down"] as const).flatMap((direction) => {
      const value = c[`${kind}${direction === "up" ? "Up" : "Down"}` as const];
      return value === undefined ? [] : [{ kind, direction, value }];
    }),
  );
}

/** Every series of one job, from its stored status; fields the status lacks give no series. */
export function jobSamples(job: JobForMetrics): NamedSample[] {
  const id = { namespace: job.namespace, sfprompt_job: job.name };
  const out: NamedSample[] = [];
  const add = (name: FamilyName, value: number | undefined, labels: Record<string, string> = {}): void => {
    if (value !== undefined) out.push({ name, labels: { ...id, ...labels }, value });
  };
  const s = job.status ?? {};
  const phase = phaseLabel(job);
  for (const p of PHASE_LABELS) add("sfprompt_job_phase", p === phase ? 1 : 0, { phase: p });
  add("sfprompt_job_round", s.round);
  add("sfprompt_job_rounds", s.rounds);
  add("sfprompt_job_loss", s.metrics?.loss);
  add("sfprompt_job_accuracy", s.metrics?.accuracy);
  add("sfprompt_job_best_accuracy", s.metrics?.bestAccuracy);
  add("sfprompt_job_best_round", s.metrics?.bestRound);
  add("sfprompt_job_bytes", s.communication?.up, { direction: "up" });
  add("sfprompt_job_bytes", s.communication?.down, { direction: "down" });
  for (const b of s.communication ? bytesByKind(s.communication) : [])
    add("sfprompt_job_bytes_by_kind", b.value, { direction: b.direction, kind: b.kind });
  if (s.clients)
    for (const state of CLIENT_STATUS_STATES)
      add("sfprompt_job_clients", s.clients.filter((c) => c.state === state).length, { state });
  return out;
}

/**
 * A cached job as the series read it. A stored status that does not read as the API's (none this
 * operator writes) gives what of it reads, as the reconciler keeps it, with its phase among it
 * (what kubectl get shows); `unreadable` is told its issues (ADR 0023, amendments 5, 6 and 8).
 */
function forMetrics(
  j: KubernetesObject,
  unreadable: (job: KubernetesObject, issues: StatusIssue[]) => void,
): JobForMetrics {
  const read = readStoredStatus(j);
  if (!read.readable) unreadable(j, read.issues);
  const status = usableStatus(read);
  const stored = (j as { status?: { phase?: unknown } }).status?.phase;
  return {
    namespace: j.metadata?.namespace ?? "",
    name: j.metadata?.name ?? "",
    ...(status ? { status } : {}),
    ...(status?.phase === undefined && stored !== undefined && stored !== null ? { unknownPhase: true } : {}),
  };
}

/** The series of every job in `jobs` (the leader's informer cache). */
export function jobsSamples(
  jobs: readonly KubernetesObject[],
  unreadable: (job: KubernetesObject, issues: StatusIssue[]) => void = () => {},
): NamedSample[] {
  return jobs.flatMap((j) => jobSamples(forMetrics(j, unreadable)));
}

/**
 * Jobs per phase label, every label listed (0 where none): the sum of the jobs' sfprompt_job_phase
 * series, so the operator's count agrees with them and with kubectl get. A job without a phase yet
 * (just created) is in none, as its phase series are all 0.
 */
export function jobsByPhase(
  jobs: readonly KubernetesObject[],
): { labels: { phase: string }; value: number }[] {
  const counts = new Map<string, number>(PHASE_LABELS.map((p) => [p, 0]));
  for (const j of jobs) {
    const p = phaseLabel(forMetrics(j, () => {}));
    if (p !== undefined) counts.set(p, counts.get(p)! + 1);
  }
  return [...counts].map(([phase, value]) => ({ labels: { phase }, value }));
}
