// Which Kubernetes Events a reconcile reports: phase changes, a CPU fallback of the server, client
// pod replacements, an ignored edit of a finished job, a held edit of a running one, client pods
// left on an older spec and a finished job's outcome read back after its status lost it. Pure.
import type { SFPromptJob, Status } from "@sfprompt/api";
import type { EventType } from "../kube/event-recorder.js";
import type { ClientPlan } from "../desired/restart-plan.js";
import type { SpecRecord } from "../desired/spec-record.js";
import type { StatusWrite } from "../status/compute-status.js";
import { OUTCOME_UNKNOWN, type ReadBackSource } from "../status/lifecycle.js";
import { conditionFinishedAt } from "../status/terminal.js";
import { FIELD_MANAGER } from "../names.js";
import { SPEC_REJECTED } from "../status/checkpoint-rounds.js";
import { CLIENT_PODS_OUTDATED, CLIENTS_CONFIG_CURRENT } from "../status/clients-config.js";
import { finishedEditEvent } from "./finished-edit.js";

export interface JobEvent {
  type: EventType;
  reason: string;
  message: string;
}

function phaseEvent(previous: Status | undefined, next: StatusWrite): JobEvent | undefined {
  if (previous?.phase === next.phase) return undefined;
  const failed = next.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  const succeeded = next.conditions?.find((c) => c.type === "Succeeded" && c.status === "True");
  switch (next.phase) {
    case "Running":
      return {
        type: "Normal",
        reason: "Running",
        message: "the server is available and clients are running",
      };
    case "Suspended":
      return {
        type: "Normal",
        reason: "Suspended",
        message: "client pods deleted and server scaled to 0 (spec.suspend)",
      };
    case "Succeeded":
      return {
        type: "Normal",
        reason: succeeded?.reason ?? "Succeeded",
        message: succeeded?.message ?? "the job succeeded",
      };
    case "Failed":
      return {
        type: "Warning",
        reason: failed?.reason ?? "Failed",
        message: failed?.message ?? "the job failed",
      };
    case "Pending":
      return previous?.phase === "Suspended"
        ? {
            type: "Normal",
            reason: "Resumed",
            message: "spec.suspend is false again; children are being recreated",
          }
        : undefined;
    default:
      return undefined;
  }
}

function restartEvents(
  plans: readonly ClientPlan[],
  limit: number,
  created: (plan: ClientPlan) => boolean,
): JobEvent[] {
  const out: JobEvent[] = [];
  for (const p of plans) {
    if (p.state === "exhausted") {
      out.push({
        type: "Warning",
        reason: "ClientRestartLimit",
        message: `client ${p.index} failed ${p.attempt + 1} times (limit: ${limit} restarts); not restarted`,
      });
    } else if (p.state === "running" && p.recreate && created(p)) {
      out.push({
        type: "Normal",
        reason: "ClientPodRecreated",
        message: `client ${p.index}'s pod went away without failing (deleted by hand, evicted, or replaced for a spec change); made again, not counted as a restart (${p.attempt} of ${limit} so far)`,
      });
    } else if (p.state === "running" && p.attempt > 0 && !p.pod && created(p)) {
      // A plan with a new attempt and no pod yet is the reconcile that creates the replacement; only
      // once the API server took the pod (a quota or an admission policy may refuse it).
      out.push({
        type: "Warning",
        reason: "ClientRestarted",
        message: `client ${p.index} failed; started restart ${p.attempt} of ${limit}`,
      });
    }
  }
  return out;
}

/** A Warning when the server is first seen running on CPU though CUDA was asked for. */
function fallbackEvent(previous: Status | undefined, next: StatusWrite): JobEvent | undefined {
  const was = previous?.conditions?.find((c) => c.type === "CpuFallback")?.status;
  const now = next.conditions?.find((c) => c.type === "CpuFallback");
  if (now?.status !== "True" || was === "True") return undefined;
  return { type: "Warning", reason: "CpuFallback", message: now.message };
}

/**
 * Whether what client pods are made from changed since the previous status: its clientRevision; for
 * a status written before there was one, its generation.
 */
function clientsEdited(input: TransitionInput): boolean {
  const { previous, next, job } = input;
  if (previous?.clientRevision !== undefined) return previous.clientRevision !== next.clientRevision;
  return previous?.observedGeneration !== job.metadata.generation;
}

/**
 * A Normal event when running client pods are left on an older spec: when the condition goes False,
 * and once per change of what client pods are made from (an edit they read, a new client image), not
 * for an edit they do not read (ADR 0040, amendment 3). It names the spec's generation: the recorder
 * sends a reason's message once, and an edit can leave the condition's message as it was.
 */
function clientsConfigEvent(input: TransitionInput): JobEvent | undefined {
  const { previous, next, job } = input;
  const now = next.conditions?.find((c) => c.type === CLIENTS_CONFIG_CURRENT);
  if (now?.status !== "False") return undefined;
  const was = previous?.conditions?.find((c) => c.type === CLIENTS_CONFIG_CURRENT)?.status;
  if (was === "False" && !clientsEdited(input)) return undefined;
  const generation = job.metadata.generation;
  const message = generation !== undefined ? `spec generation ${generation}: ${now.message}` : now.message;
  return { type: "Normal", reason: CLIENT_PODS_OUTDATED, message };
}

/** A Warning when an edit is held (ADR 0039): once per edit, or when a held edit first shows. */
function heldEditEvent(input: TransitionInput): JobEvent | undefined {
  const { previous, next, job } = input;
  const now = next.conditions?.find((c) => c.type === SPEC_REJECTED);
  if (now?.status !== "True") return undefined;
  const was = previous?.conditions?.find((c) => c.type === SPEC_REJECTED)?.status;
  if (was === "True" && previous?.observedGeneration === job.metadata.generation) return undefined;
  return { type: "Warning", reason: SPEC_REJECTED, message: now.message };
}

export interface TransitionInput {
  previous: Status | undefined;
  next: StatusWrite;
  job: SFPromptJob;
  plans: readonly ClientPlan[];
  restartLimit: number;
  /** Whether the API server took the pod of `plan` in this reconcile. */
  created: (plan: ClientPlan) => boolean;
  /** The spec record on the job's ConfigMap as observed before this reconcile (a finished job's). */
  recorded?: SpecRecord | undefined;
  /** Where the lifecycle read the job's lost outcome back from, if it did (Lifecycle.readBack). */
  readBack?: ReadBackSource | undefined;
  /** The job's ConfigMap's name, which the outcome record is on. */
  configMap?: string | undefined;
  /** When the operator last wrote that ConfigMap, as its managedFields say (FinishedRecords.writtenAt). */
  writtenAt?: string | undefined;
}

/** The source a read-back outcome came from, as an event names it. */
function readBackSource(input: ReadBackInput): string {
  return input.readBack === "record"
    ? `the job's ConfigMap ${input.configMap ?? ""} (annotation sfprompt.io/finished-outcome, written as the job finished)`
    : `its server's ${input.next.phase === "Succeeded" ? "job.finished" : "job.failed"} on the job's event stream`;
}

/** What readBackEvent reads of a reconcile (reportInvalid gives it too). */
export type ReadBackInput = Pick<
  TransitionInput,
  "previous" | "next" | "readBack" | "configMap" | "writtenAt"
>;

/**
 * Where a job held as OutcomeUnknown got its completionTime from (ADR 0023, amendments 23 and 26): its
 * stored status, the operator's last write of its ConfigMap (managedFields), or the reconcile that held it.
 */
function heldTimeSource(input: ReadBackInput): string {
  const at = input.next.completionTime;
  if (at === undefined) return "";
  const { previous } = input;
  if (at === previous?.completionTime || at === conditionFinishedAt(previous, "Failed"))
    return `; its completionTime ${at} is its stored status's`;
  if (at === input.writtenAt)
    return `; its completionTime ${at} is when the operator last wrote that ConfigMap (the time of its server-side apply in the ConfigMap's metadata.managedFields, manager ${FIELD_MANAGER}, whole seconds), no earlier than the job finished: spec.ttlSecondsAfterFinished counts from it`;
  return `; its completionTime ${at} is when it was held (the API server gave no time of the operator's last write of that ConfigMap in its metadata.managedFields): spec.ttlSecondsAfterFinished counts from it`;
}

/**
 * What the stored status had lost of a finished job, and where the reconcile read it back from (ADR
 * 0023, amendment 18): a Warning OutcomeRestored when the phase itself was lost (a status restored
 * without it, or rewritten by a stale writer), which stands for the phase event (the job did not fail
 * again now); a Normal FailureReasonReadBack when only the Failed condition was (FailureReasonLost).
 */
export function readBackEvent(input: ReadBackInput): JobEvent | undefined {
  const { previous, next, readBack } = input;
  if (readBack === undefined || (next.phase !== "Failed" && next.phase !== "Succeeded")) return undefined;
  const c = next.conditions?.find((x) => x.type === next.phase && x.status === "True");
  if (c === undefined) return undefined;
  const text = `${c.reason}: ${c.message}`;
  if (previous?.phase !== next.phase) {
    const was = previous?.phase === undefined ? "had no phase" : `said phase ${previous.phase}`;
    if (readBack === "spec-record")
      return {
        type: "Warning",
        reason: OUTCOME_UNKNOWN,
        message: `the stored status ${was}, but the job's ConfigMap ${input.configMap ?? ""} records that it had finished (annotation sfprompt.io/finished-spec) and not how (no sfprompt.io/finished-outcome that reads): phase Failed, ${OUTCOME_UNKNOWN}; nothing is started again; to train again, create a new job${heldTimeSource(input)}`,
      };
    const ended = next.phase === "Failed" ? "failed" : "succeeded";
    return {
      type: "Warning",
      reason: OUTCOME_RESTORED,
      message: `the stored status ${was}, but the job had ${ended} at ${next.completionTime ?? "an unknown time"}, as ${readBackSource(input)} says: phase ${next.phase} again, ${text}; nothing is started again`,
    };
  }
  if (next.phase !== "Failed") return undefined;
  const lost = previous.conditions?.find((x) => x.type === "Failed" && x.status === "True")?.reason;
  return {
    type: "Normal",
    reason: FAILURE_REASON_READ_BACK,
    message: `the reason the job failed, lost with its stored status (${lost ?? "no Failed condition"}), is read back from ${readBackSource(input)}: ${text}`,
  };
}

export const OUTCOME_RESTORED = "OutcomeRestored";
export const FAILURE_REASON_READ_BACK = "FailureReasonReadBack";

export function transitionEvents(input: TransitionInput): JobEvent[] {
  const { previous, next } = input;
  const readBack = readBackEvent(input);
  const once = [
    // OutcomeRestored and OutcomeUnknown stand for the phase event: the job did not end now
    readBack !== undefined && readBack.reason !== FAILURE_REASON_READ_BACK
      ? readBack
      : phaseEvent(previous, next),
    readBack?.reason === FAILURE_REASON_READ_BACK ? readBack : undefined,
    fallbackEvent(previous, next),
    finishedEditEvent(input),
    heldEditEvent(input),
    clientsConfigEvent(input),
  ].filter((e): e is JobEvent => e !== undefined);
  return [...once, ...restartEvents(input.plans, input.restartLimit, input.created)];
}
