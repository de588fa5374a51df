// The job's status as a pure function of what the reconciler observed: the lifecycle decision, the
// server Deployment, the client pods (through their plans) and the progress snapshot from NATS.
import type { KubernetesObject, V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { ClientStatus, ServerStatus, SFPromptJob, Status, StatusSchema } from "@sfprompt/api";
import type { z } from "zod";
import { finishedClientPlan } from "../desired/finished-clients.js";
import type { ClientPlan } from "../desired/restart-plan.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { SPEC_REJECTED } from "./checkpoint-rounds.js";
import { withWrittenCounts } from "./client-counts.js";
import { clientPodFields, clientState } from "./client-state.js";
import { clientsConfigCondition } from "./clients-config.js";
import { communicationOf } from "./communication.js";
import { upsertConditions, type ConditionUpdate } from "./conditions.js";
import { clientsNotice, hasFinished, INVALID_SPEC, type Lifecycle, type Terminal } from "./lifecycle.js";
import { clientIndexList, clientsWhyText, serverPodsText } from "./pod-reason.js";
import { cpuFallbackCondition, serverStatusOf } from "./server-status.js";
import { statusMessage } from "./status-message.js";

export interface StatusInput {
  job: SFPromptJob;
  lifecycle: Lifecycle;
  deployment: V1Deployment | undefined;
  /** The server Deployment's pods (not the job's own children: a ReplicaSet controls them). */
  serverPods?: readonly V1Pod[];
  plans: readonly ClientPlan[];
  progress: ProgressSnapshot | undefined;
  now: Date;
  /** The NATS URL the job uses now (spec.transport.url or the operator's), added to status.natsUrls. */
  natsUrl?: string;
  /** Why a child could not be applied in this reconcile, if it could not. */
  rejected?: { reason: string; message: string };
  /** Why the spec's last edit is held (not applied to the children), if it is. */
  held?: { reason: string; message: string };
  /** The children as desired now: running client pods are compared with them (ClientsConfigCurrent). */
  desired?: readonly KubernetesObject[];
  /** What client pods are made from now (desiredChildren's clientRevision); not written once finished. */
  clientRevision?: string;
  /**
   * training.rounds of the run config a finished job's ConfigMap kept (one that records the finish):
   * the rounds it ran with, where the status lost them (ADR 0034, amendment 4).
   */
  ranWithRounds?: number | undefined;
}

type Phase = NonNullable<Status["phase"]>;

/** A status as written: fields with CRD defaults may be left out (the API server fills them in). */
export type StatusWrite = z.input<typeof StatusSchema>;

function serverAvailable(d: V1Deployment | undefined): boolean {
  return (d?.status?.availableReplicas ?? 0) >= 1;
}

function clientPhase(plan: ClientPlan): ClientStatus["phase"] {
  if (plan.state !== "running") return "Failed";
  const p = plan.pod?.status?.phase;
  return p === "Running" || p === "Succeeded" || p === "Failed" || p === "Unknown" ? p : "Pending";
}

/**
 * A finished job's client whose pod is gone or being deleted: a pod not seen to finish was deleted
 * before it exited (ADR 0012, amendment 2), so how it ended is Unknown, never Running.
 */
function deletedClient(entry: ClientStatus, terminal: NonNullable<Lifecycle["terminal"]>): ClientStatus {
  if (entry.phase === "Succeeded" || entry.phase === "Failed" || entry.phase === "Unknown") return entry;
  const job = terminal.phase === "Succeeded" ? "succeeded" : "failed";
  const was = entry.state !== undefined ? ` (last state ${entry.state})` : "";
  const pod = entry.pod !== undefined ? `pod ${entry.pod}` : "its pod";
  return {
    ...entry,
    phase: "Unknown",
    reason: `${pod} was deleted after the job ${job}, before it exited${was}: how it ended was not observed`,
  };
}

function clientStatuses(input: StatusInput): ClientStatus[] {
  const { plans, progress, lifecycle } = input;
  const before = new Map((input.job.status?.clients ?? []).map((c) => [c.index, c]));
  return plans.map((planned) => {
    const plan = lifecycle.terminal ? finishedClientPlan(planned) : planned;
    // A finished job's pod that is gone leaves its last observed entry (Unknown if it was not seen to finish).
    const last = before.get(plan.index);
    if (lifecycle.terminal && !plan.pod && last) return deletedClient(last, lifecycle.terminal);
    // Until the progress replay has caught up, the last written round and state stand; the state
    // only while it is about the same pod (and "pending" was the pod's, not a report).
    const samePod = last?.pod !== undefined && last.pod === plan.pod?.metadata?.name;
    const carried = samePod && last?.state !== "pending" ? { state: last?.state, reason: last?.reason } : {};
    const p = progress
      ? withWrittenCounts(progress.clients[plan.index], last, progress)
      : last && { lastRound: last.lastRound, samples: last.samples, kept: last.kept, ...carried };
    const state = clientState(plan, p);
    const entry = stripUndefined({
      index: plan.index,
      phase: clientPhase(plan),
      state: state.state,
      reason: state.reason,
      ...clientPodFields(plan),
      samples: p?.samples,
      kept: p?.kept,
      lastRound: p?.lastRound,
    });
    const deleting = plan.pod?.metadata?.deletionTimestamp !== undefined;
    return lifecycle.terminal && deleting ? deletedClient(entry, lifecycle.terminal) : entry;
  });
}

function phaseOf(input: StatusInput, clients: ClientStatus[]): Phase {
  const { lifecycle } = input;
  if (lifecycle.terminal) return lifecycle.terminal.phase;
  if (lifecycle.suspended) return "Suspended";
  if (serverAvailable(input.deployment) && clients.some((c) => c.phase === "Running")) return "Running";
  return "Pending";
}

const cond = (type: string, on: boolean, reason: string, message: string): ConditionUpdate => ({
  type,
  status: on ? "True" : "False",
  reason,
  message,
});

function serverCondition(input: StatusInput): ConditionUpdate {
  if (input.lifecycle.suspended || input.lifecycle.terminal) {
    return cond(
      "ServerReady",
      false,
      "ScaledDown",
      "the server is scaled to 0 while the job is suspended or finished",
    );
  }
  const d = input.deployment;
  const ok = serverAvailable(d);
  const want = d?.spec?.replicas ?? 0;
  return ok
    ? cond(
        "ServerReady",
        true,
        "MinimumReplicasAvailable",
        `${d?.status?.availableReplicas} of ${want} server replicas available`,
      )
    : cond(
        "ServerReady",
        false,
        "ServerNotAvailable",
        `no server replica is available yet: ${serverPodsText(input.serverPods ?? [], input.now)}`,
      );
}

/** What becomes of a finished job's client pods (ADR 0012, amendments 2 and 3). */
function finishedClientsText(terminal: Terminal): string {
  const kept = "finished ones kept for their logs";
  const notice = clientsNotice(terminal);
  if (notice === "not-told")
    return `the job failed by the operator's decision (${terminal.reason}), which its clients are not told of: client pods that had not finished are deleted at once (phase Unknown), ${kept}`;
  const grace = `client pods that have not exited when the operator's grace (--finished-client-grace-seconds) is over are deleted (phase Unknown), ${kept}`;
  if (notice === "unknown")
    return `the job failed, and why is lost (${terminal.reason}), so whether its server told its clients (they then exit by themselves) or the operator failed it (they are not told) is not known: ${grace}`;
  const who =
    terminal.phase === "Succeeded"
      ? "the job succeeded: its clients"
      : "the job failed on its server, which told its clients: they";
  return `${who} exit by themselves; ${grace}`;
}

function clientsCondition(input: StatusInput, clients: ClientStatus[]): ConditionUpdate {
  if (input.lifecycle.suspended)
    return cond("ClientsReady", false, "Suspended", "client pods are deleted while the job is suspended");
  // A finished job's clients list keeps each client's last observed state, but its unfinished pods
  // are deleted: counting those as running would leave the condition True for good.
  const terminal = input.lifecycle.terminal;
  if (terminal) return cond("ClientsReady", false, "JobFinished", finishedClientsText(terminal));
  const running = clients.filter((c) => c.phase === "Running" || c.phase === "Succeeded");
  const waiting = input.plans.filter((p) => p.state === "waiting").map((p) => p.index);
  const others = clients.filter((c) => !running.includes(c)).map((c) => c.index);
  if (others.length === 0)
    return cond("ClientsReady", true, "AllClientsRunning", `${clients.length} client pods running`);
  // each list bounded: the whole of a 10000-client job's would leave no room for the reasons
  const retry = waiting.length > 0 ? `; restarting after backoff: ${clientIndexList(waiting)}` : "";
  const why = clientsWhyText(clients.filter((c) => !running.includes(c)));
  return cond(
    "ClientsReady",
    false,
    waiting.length > 0 ? "ClientRestartBackoff" : "ClientsNotRunning",
    `${running.length} of ${clients.length} client pods running; not running: ${clientIndexList(others)}${retry}${why === "" ? "" : `; why: ${why}`}`,
  );
}

function conditionUpdates(
  input: StatusInput,
  phase: Phase,
  clients: ClientStatus[],
  server: ServerStatus,
): ConditionUpdate[] {
  const { terminal, suspended } = input.lifecycle;
  return [
    cpuFallbackCondition(server, input.job.spec.server.gpus),
    input.rejected !== undefined
      ? cond("Created", false, input.rejected.reason, input.rejected.message)
      : cond(
          "Created",
          true,
          "ChildrenApplied",
          "run config, credentials, server and client pods are applied",
        ),
    serverCondition(input),
    clientsCondition(input, clients),
    // a finished or suspended job runs no client: its pods are deleted, or are about to be
    clientsConfigCondition(terminal || suspended ? [] : input.plans, input.desired ?? []),
    phase === "Running"
      ? cond("Running", true, "Training", "the server is available and clients are running")
      : cond("Running", false, phase === "Pending" ? "Starting" : phase, `the job is ${phase}`),
    suspended
      ? cond("Suspended", true, "SuspendedBySpec", "spec.suspend is true")
      : cond("Suspended", false, "NotSuspended", "spec.suspend is false"),
    // turned True when the job was recorded finished: now, or the recorded time of an outcome read back
    terminal?.phase === "Succeeded"
      ? { ...cond("Succeeded", true, terminal.reason, terminal.message), at: input.lifecycle.completionTime }
      : cond("Succeeded", false, "NotFinished", "training has not finished"),
    terminal?.phase === "Failed"
      ? { ...cond("Failed", true, terminal.reason, terminal.message), at: input.lifecycle.completionTime }
      : cond("Failed", false, "NoFailure", "no failure so far"),
    ...specCondition(input),
  ];
}

/**
 * SpecRejected while an edit is held; once one was, False again when the spec is applied. A finished
 * job's stays as it finished: no later spec is applied to it (ADR 0034); only the InvalidSpec one its
 * invalid spec set (ADR 0023, amendment 9) goes False once the spec reads again.
 */
function specCondition(input: StatusInput): ConditionUpdate[] {
  if (input.held) return [cond(SPEC_REJECTED, true, input.held.reason, input.held.message)];
  const previous = input.job.status;
  const was = previous?.conditions?.find((c) => c.type === SPEC_REJECTED);
  if (hasFinished(previous)) {
    if (was?.status !== "True" || was.reason !== INVALID_SPEC) return [];
    return [
      cond(SPEC_REJECTED, false, "SpecValid", "the spec is valid; the job has finished and runs no more"),
    ];
  }
  if (!was) return [];
  return [cond(SPEC_REJECTED, false, "SpecApplied", "the spec is applied to the job's children")];
}

/**
 * The job's newest checkpoint: the followed run attempt's (a run started over has none of the attempt
 * before), else the progress view's or the last written status's while the replay has not caught up.
 */
export function newestCheckpoint(
  progress: ProgressSnapshot | undefined,
  previous: Pick<Status, "lastCheckpoint"> | undefined,
  finished = false,
): Status["lastCheckpoint"] {
  const own = progress !== undefined && progress.attempts.current !== undefined && !finished;
  return own ? progress.lastCheckpoint : (progress?.lastCheckpoint ?? previous?.lastCheckpoint);
}

/** The status to write: the previous conditions upserted with the new ones, everything else recomputed. */
export function computeStatus(input: StatusInput): StatusWrite {
  const { job, lifecycle, progress } = input;
  const previous = job.status;
  const finished = hasFinished(previous);
  // A finished job reports the rounds it ran with: an edit after it finished changes nothing (ADR 0034);
  // where its status lost them, its kept ConfigMap's run config says them (amendment 4)
  const ranWith = finished ? previous?.rounds : undefined;
  const rounds =
    ranWith ?? (lifecycle.terminal ? input.ranWithRounds : undefined) ?? job.spec.training.rounds;
  // The replayed progress says where the current run is (a new stream or a fresh start goes back to
  // round 0 or 1); the last written round stands while the replay has not caught up. A finished job's
  // never goes down (a stream lost after that is no new run), but its stream's higher round is taken:
  // a status lost whole is written with round 0 before the replay is in (ADR 0034, amendment 6).
  const round =
    progress && !finished ? (progress.round ?? 0) : Math.max(previous?.round ?? 0, progress?.round ?? 0);
  const clients = clientStatuses(input);
  const phase = phaseOf(input, clients);
  const server = serverStatusOf(job, input.deployment, progress);
  const generation = job.metadata.generation;
  const conditions = upsertConditions(
    previous?.conditions ?? [],
    conditionUpdates(input, phase, clients, server),
    input.now.toISOString(),
    generation,
  );
  // A caught-up replay that follows a run attempt holds all there is of it: the bytes and checkpoint
  // the last written status has from an attempt before (a run started over) are not this run's.
  const own = progress !== undefined && progress.attempts.current !== undefined && !finished;
  const comm = own ? communicationOf(progress) : (communicationOf(progress) ?? previous?.communication);
  const metrics = progress
    ? stripUndefined({
        loss: progress.loss,
        accuracy: progress.accuracy,
        bestAccuracy: progress.bestAccuracy,
        bestRound: progress.bestRound,
      })
    : previous?.metrics;
  const checkpoint = newestCheckpoint(progress, previous, finished);
  // the rounds another job trained (ADR 0046): the followed attempt's, as the bytes are
  const resumedFrom = own ? progress.resumedFrom : (progress?.resumedFrom ?? previous?.resumedFrom);
  return stripUndefined({
    phase,
    conditions,
    observedGeneration: generation,
    round,
    rounds,
    progress: `${round}/${rounds}`,
    message: statusMessage(phase, conditions),
    resumedFrom,
    clients,
    clientRevision: lifecycle.terminal ? undefined : input.clientRevision,
    server,
    metrics: metrics && Object.keys(metrics).length > 0 ? metrics : undefined,
    communication: comm,
    lastCheckpoint: checkpoint,
    natsUrls: usedUrls(previous?.natsUrls, input.natsUrl),
    startTime: lifecycle.startTime,
    completionTime: lifecycle.completionTime,
  });
}

/** NATS URLs used so far, oldest first, with `now` last; the 16 newest (what the schema allows). */
function usedUrls(before: readonly string[] | undefined, now: string | undefined): string[] | undefined {
  const all = [...(before ?? []).filter((u) => u !== now), ...(now !== undefined ? [now] : [])];
  return all.length > 0 ? all.slice(-16) : undefined;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
