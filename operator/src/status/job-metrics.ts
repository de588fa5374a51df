// Per-job gauges for the operator's /metrics, read from each job's stored status at scrape time (in
// the style of kube-state-metrics): a job's series exist while the job does, with the status's units.
import type { KubernetesObject } from "@kubernetes/client-node";
import { CLIENT_STATUS_STATES, PHASES, type Communication, type Status } from "@sfprompt/api";
import type { NamedSample } from "../metrics.js";
import { readStoredStatus, type StatusIssue } from "./stored-status.js";

/** What jobSamples reads of a job: its name and its status as the API's schema gives it. */
export interface JobForMetrics {
  namespace: string;
  name: string;
  status?: Status;
  /** The stored status does not read as the API's: the phase is Unknown, and no other series. */
  unreadable?: boolean;
}

/**
 * The phase label's values: the API's phases, and Unknown for a stored status that does not read
 * (as kube-state-metrics' pod phase has Unknown when the state could not be obtained).
 */
export const PHASE_LABELS = [...PHASES, "Unknown"] as const;

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
    help: "1 for the job's status.phase, 0 for each other phase (Pending, Running, Suspended, Succeeded, Failed, Unknown); Unknown: the stored status does not read as the operator's API; all 0 before the operator wrote a phase.",
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

/**
 * Every series of one job, from its stored status; fields the status lacks give no series. An
 * unreadable status gives the phase series alone, Unknown 1: nothing it says is known.
 */
export function jobSamples(job: JobForMetrics): NamedSample[] {
  const id = { namespace: job.namespace, sfprompt_job: job.name };
  const out: NamedSample[] = [];
  const add = (name: FamilyName, value: number | undefined, labels: Record<string, string> = {}): void => {
    if (value !== undefined) out.push({ name, labels: { ...id, ...labels }, value });
  };
  const s = job.status ?? {};
  const phase = job.unreadable ? "Unknown" : s.phase;
  for (const p of PHASE_LABELS) add("sfprompt_job_phase", p === phase ? 1 : 0, { phase: p });
  if (job.unreadable) return out;
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
 * The series of every job in `jobs` (the leader's informer cache). A status that does not read as
 * the API's (none the operator writes) gives phase Unknown, and `unreadable` is told its issues.
 */
export function jobsSamples(
  jobs: readonly KubernetesObject[],
  unreadable: (job: KubernetesObject, issues: StatusIssue[]) => void = () => {},
): NamedSample[] {
  return jobs.flatMap((j) => {
    const read = readStoredStatus(j);
    if (!read.readable) unreadable(j, read.issues);
    return jobSamples({
      namespace: j.metadata?.namespace ?? "",
      name: j.metadata?.name ?? "",
      ...(read.status ? { status: read.status } : {}),
      ...(read.readable ? {} : { unreadable: true }),
    });
  });
}
