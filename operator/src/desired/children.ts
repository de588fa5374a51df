// Everything a job should own right now, as one pure function of the job, the operator's settings,
// the lifecycle decision and the client restart plans.
import type { KubernetesObject, V1ConfigMap, V1Deployment } from "@kubernetes/client-node";
import type { SFPromptJob } from "@sfprompt/api";
import { childNames } from "../names.js";
import { OUTCOME_UNKNOWN, type Lifecycle, type Terminal } from "../status/lifecycle.js";
import { FAILURE_REASON_LOST } from "../status/repaired-status.js";
import { clientRevision, desiredClientPod } from "./client-pod.js";
import { configHashes } from "./config-hash.js";
import { desiredConfigMap, recordedConfigMap } from "./config-map.js";
import { finishedClientPods } from "./finished-clients.js";
import { outcomeRecordAnnotation, type OutcomeRecord } from "./outcome-record.js";
import type { JobRef } from "./owner.js";
import { jobNatsUrl } from "./pod-parts.js";
import type { ClientPlan } from "./restart-plan.js";
import { desiredSecret } from "./secret.js";
import { specRecordAnnotation, type SpecRecord } from "./spec-record.js";
import { desiredDeployment, desiredService } from "./server.js";
import type { ChildSettings } from "./settings.js";

export interface DesiredInput {
  job: SFPromptJob;
  ref: JobRef;
  settings: ChildSettings;
  /** The job key carried over from the existing Secret (or generated once by the caller). */
  jobKey: string;
  lifecycle: Lifecycle;
  plans: readonly ClientPlan[];
  /**
   * The spec record on the job's ConfigMap as observed (recordedSpec, parsed once per reconcile): a
   * finished job's ConfigMap, and its server once stopped, are kept once the record is there.
   */
  recorded?: SpecRecord | undefined;
  /** The job's ConfigMap as observed: a finished job's, applied again only to update its outcome record. */
  configMap?: V1ConfigMap | undefined;
  /** The outcome record on it (recordedOutcome), if one reads. */
  recordedOutcome?: OutcomeRecord | undefined;
  /**
   * The ConfigMap carries a record of the job's finish, read or not (FinishedRecords.finished): it is
   * a finished job's, kept but for its records, and so is its stopped server.
   */
  markedFinished?: boolean | undefined;
  /** The server Deployment as observed: a finished job's is kept once scaled to 0 and recorded. */
  deployment?: V1Deployment;
  /** The reconcile's time: a Succeeded job's running client pods are kept for a grace (none without it). */
  now?: Date;
  /** The round the job's status reports now (statusRound), kept in its outcome record. */
  round?: number;
}

export interface DesiredChildren {
  /** Objects to server-side apply (pods only when absent: a pod's spec is immutable). */
  apply: KubernetesObject[];
  /** Existing pods to leave alone: failed pods kept for their logs and their restart count. */
  keep: { kind: "Pod" | "ConfigMap" | "Deployment"; name: string }[];
  /** A finished job's client pods kept for their grace to exit: ms until it is over. */
  recheckAfterMs?: number;
  /** What client pods are made from now (status.clientRevision), whether or not any is. */
  clientRevision: string;
}

/** One part of the children: objects to apply and to keep. */
type ChildrenPart = Omit<DesiredChildren, "clientRevision">;

function clientPods(input: DesiredInput, configHash: string, natsUrl: string): ChildrenPart {
  const { lifecycle, plans, settings } = input;
  if (lifecycle.suspended) return { apply: [], keep: [] };
  const pod = (name: string): { kind: "Pod"; name: string } => ({ kind: "Pod", name });
  if (lifecycle.terminal) {
    const grace = finishedClientPods(plans, lifecycle, settings.finishedClientGraceMs, input.now);
    const keep = grace.keep.map(pod);
    return grace.recheckAfterMs !== undefined
      ? { apply: [], keep, recheckAfterMs: grace.recheckAfterMs }
      : { apply: [], keep };
  }
  const keep = plans.filter((p) => p.pod && p.state !== "running").map((p) => pod(p.pod!.metadata!.name!));
  const apply = plans
    .filter((p) => p.state === "running")
    .map((p) =>
      desiredClientPod({
        job: input.job,
        ref: input.ref,
        index: p.index,
        attempt: p.attempt,
        image: settings.clientImage,
        imagePullPolicy: settings.imagePullPolicy,
        natsUrl,
        edgeNodeLabel: settings.edgeNodeLabel,
        configHash,
      }),
    );
  return { apply, keep };
}

/** The GPU server image for a job that asks for GPUs, when the operator has one; else the server image. */
export function serverImageFor(job: SFPromptJob, settings: ChildSettings): string {
  return job.spec.server.gpus > 0 && settings.gpuServerImage !== ""
    ? settings.gpuServerImage
    : settings.serverImage;
}

/**
 * The run config a finished job ran with stays as it was: the ConfigMap is kept once it records the
 * spec (ADR 0034, amendment 1); the reconcile in which the job finishes applies it with that record,
 * and with how the job finished, which a lost status is given back from (ADR 0023, amendment 18).
 */
function configMapPart(input: DesiredInput): ChildrenPart {
  const { job, ref, lifecycle } = input;
  const { terminal, completionTime, startTime } = lifecycle;
  if (!terminal || completionTime === undefined) return { apply: [desiredConfigMap(job, ref)], keep: [] };
  const outcome = outcomeRecordAnnotation({
    ...terminal,
    completionTime,
    ...(startTime ? { startTime } : {}),
    ...(input.round !== undefined ? { round: input.round } : {}),
  });
  const live = input.configMap;
  if (markedFinished(input)) {
    const better = betterOutcome(terminal, input.recordedOutcome);
    // a spec record that does not read (edited by hand) is written again from the spec as it now is:
    // which fields were edited before is lost with it (ADR 0023, amendment 22)
    const specLost = input.recorded === undefined;
    if (live === undefined || (!better && !specLost))
      return { apply: [], keep: [{ kind: "ConfigMap", name: childNames(ref.name).configMap }] };
    const records = {
      ...(better ? { outcome } : {}),
      ...(specLost ? { spec: specRecordAnnotation(job.spec, job.metadata.generation) } : {}),
    };
    return { apply: [recordedConfigMap(live, ref, records)], keep: [] };
  }
  const spec = specRecordAnnotation(job.spec, job.metadata.generation);
  return { apply: [desiredConfigMap(job, ref, { spec, outcome })], keep: [] };
}

/** Whether the job's ConfigMap carries a record of its finish; a spec record that reads is one. */
function markedFinished(input: DesiredInput): boolean {
  return input.markedFinished ?? input.recorded !== undefined;
}

/**
 * Whether the finished job's `terminal` says more than the outcome record its ConfigMap has: there is
 * none (a job finished under an operator that wrote the spec record alone, or a record edited into
 * something that does not read), or it records a lost reason (FailureReasonLost) that has since been
 * read back. Never the reverse, and never OutcomeUnknown, which is what no record says already (ADR
 * 0023, amendment 21).
 */
export function betterOutcome(terminal: Terminal, record: OutcomeRecord | undefined): boolean {
  if (terminal.reason === OUTCOME_UNKNOWN) return false;
  if (record === undefined) return true;
  return (
    record.reason === FAILURE_REASON_LOST &&
    terminal.reason !== FAILURE_REASON_LOST &&
    record.phase === terminal.phase
  );
}

/**
 * A finished job's server Deployment, once at 0 replicas in a reconcile after the one it finished in
 * (its ConfigMap has a record, read or not), stays as it ran: an ignored edit rolls out no revision.
 */
function keptServer(input: DesiredInput): { kind: "Deployment"; name: string } | undefined {
  const live = input.deployment;
  const name = live?.metadata?.name;
  if (!input.lifecycle.terminal || name === undefined || live?.spec?.replicas !== 0) return undefined;
  return markedFinished(input) ? { kind: "Deployment", name } : undefined;
}

export function desiredChildren(input: DesiredInput): DesiredChildren {
  const { job, ref, settings, lifecycle } = input;
  const natsUrl = jobNatsUrl(job, settings.natsUrl);
  const hashes = configHashes(job);
  const running = !lifecycle.suspended && !lifecycle.terminal;
  const kept = keptServer(input);
  const server = desiredDeployment({
    job,
    ref,
    image: serverImageFor(job, settings),
    imagePullPolicy: settings.imagePullPolicy,
    natsUrl,
    replicas: running ? job.spec.server.replicas : 0,
    configHash: hashes.server,
  });
  const pods = clientPods(input, hashes.client, natsUrl);
  const config = configMapPart(input);
  const revision = clientRevision({
    job,
    ref,
    image: settings.clientImage,
    imagePullPolicy: settings.imagePullPolicy,
    natsUrl,
    edgeNodeLabel: settings.edgeNodeLabel,
    configHash: hashes.client,
  });
  return {
    apply: [
      ...config.apply,
      desiredSecret(ref, natsUrl, input.jobKey),
      ...(kept ? [] : [server]),
      desiredService(ref),
      ...pods.apply,
    ],
    keep: [...config.keep, ...(kept ? [kept] : []), ...pods.keep],
    ...(pods.recheckAfterMs !== undefined ? { recheckAfterMs: pods.recheckAfterMs } : {}),
    clientRevision: revision,
  };
}
