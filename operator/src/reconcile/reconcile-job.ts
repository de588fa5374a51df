// One level-based reconcile of one job: read from the caches → pure desired state → server-side apply
// and prune → pure status → one status patch if it changed. It never asks what event caused it.
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Pod, V1Secret } from "@kubernetes/client-node";
import { jobToken, parseJob, type SFPromptJob, type Status } from "@sfprompt/api";
import { desiredChildren } from "../desired/children.js";
import { renderedRounds } from "../desired/config-map.js";
import { finishedRecords } from "../desired/finished-records.js";
import { recordedOutcome } from "../desired/outcome-record.js";
import type { JobRef } from "../desired/owner.js";
import { jobNatsUrl } from "../desired/pod-parts.js";
import { planClients } from "../desired/restart-plan.js";
import { existingJobKey, generateJobKey } from "../desired/secret.js";
import { recordedSpec } from "../desired/spec-record.js";
import { childNames, jobKey, splitKey } from "../names.js";
import { computeStatus } from "../status/compute-status.js";
import { SPEC_REJECTED } from "../status/checkpoint-rounds.js";
import { upsertConditions, type ConditionUpdate } from "../status/conditions.js";
import {
  decideLifecycle,
  INVALID_SPEC,
  keptTerminal,
  streamReadBack,
  type Terminal,
} from "../status/lifecycle.js";
import { heldFields, withHeldFields } from "../status/held-fields.js";
import { serverLoopRecheckMs } from "../status/pod-reason.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { repairedStatus } from "../status/repaired-status.js";
import { statusMessage } from "../status/status-message.js";
import { statusPatch } from "../status/status-patch.js";
import { readStoredStatus, usableStatus, type StoredStatus } from "../status/stored-status.js";
import { STATUS_UNREADABLE, unreadableEventMessage } from "../status/unreadable-status.js";
import { applyChildren } from "./apply-children.js";
import { childRejection, type ChildRejection } from "./child-rejection.js";
import type { ReconcileDeps, ReconcileResult } from "./deps.js";
import { ensureFinalizer, finalizeJob } from "./finalizer.js";
import { holdRounds } from "./rounds-hold.js";
import { readBackEvent, transitionEvents } from "./transition-events.js";
import { rawNatsUrl, rawResumeFrom } from "./invalid-read-back.js";
import { unreadableRecordEvent } from "./unreadable-record.js";

async function reportInvalid(
  deps: ReconcileDeps,
  raw: KubernetesObject,
  message: string,
): Promise<ReconcileResult> {
  const m = raw.metadata!;
  const involved = { namespace: m.namespace!, name: m.name!, uid: m.uid! };
  const stored = (raw as { status?: unknown }).status;
  const read = readStoredStatus(raw);
  const rejected = read.readable ? [] : read.rejected;
  const now = deps.now();
  const base = { stored, previous: usableStatus(read), rejected };
  const seen = observed(deps, involved);
  const repaired = repairedFrom(seen, involved.name, base, now);
  // A finished job keeps its outcome: a rule added after it ran (an operator upgrade) or a later edit
  // does not turn a Succeeded job into a Failed one. SpecRejected says what is wrong, and the write
  // repairs a stored status that does not read (ADR 0023, amendment 9); nothing is restarted. One whose
  // status lost how it finished gets it back from its ConfigMap's records, as with a valid spec (ADR
  // 0023, amendments 18 and 21): the job's own end, not InvalidSpec, is its outcome.
  const records = finishedRecords(seen.configMap);
  const recorded = keptTerminal(repaired, records.outcome, records.finished);
  // a lost reason or outcome is read back from the job's event stream as with a valid spec: the stream
  // needs only the job's name (ADR 0023, amendment 24)
  const progress = recorded.terminal ? followedStream(deps, raw) : undefined;
  const kept = streamReadBack(recorded, {
    previous: repaired,
    progress,
    recorded: records.outcome,
    resumeFrom: rawResumeFrom(raw),
  });
  const previous = kept.readBack
    ? restoredStatus(repaired, kept.terminal!, seen.configMap, now, records.writtenAt)
    : repaired;
  const finished = kept.terminal !== undefined;
  // Running goes False with it, so no condition says the job trains; the pods are left as they were
  // (there is no valid spec to derive them from) and a fixed spec lets the job carry on.
  const updates: ConditionUpdate[] = finished
    ? [{ type: SPEC_REJECTED, status: "True", reason: INVALID_SPEC, message }]
    : [
        { type: "Failed", status: "True", reason: INVALID_SPEC, message },
        {
          type: "Running",
          status: "False",
          reason: "Failed",
          message: "the job is Failed: its spec is invalid",
        },
      ];
  const conditions = upsertConditions(previous?.conditions ?? [], updates, now.toISOString(), m.generation);
  // status.message from these conditions, as computeStatus gives it: the one kept from the last
  // reconcile spoke of what held the job back then (ClientsNotRunning) of a job now Failed
  const said = statusMessage(finished ? previous?.phase : "Failed", conditions);
  const next = finished
    ? { ...previous, conditions, message: said }
    : { ...previous, phase: "Failed" as const, conditions, message: said, observedGeneration: m.generation };
  // Over the status as stored, so that one that does not read is replaced whole; what only the event
  // stream gives back stays as stored (no replay runs for an invalid spec).
  const patch = statusPatch(stored, withHeldFields(next, stored, heldFields(rejected, previous)));
  const readBack = readBackEvent({
    previous: repaired,
    next,
    readBack: kept.readBack,
    configMap: childNames(involved.name).configMap,
  });
  if (readBack) await deps.events.record(involved, readBack.type, readBack.reason, readBack.message);
  const unreadable = unreadableRecordEvent({
    configMap: childNames(involved.name).configMap,
    unreadable: records.unreadable,
    terminal: kept.terminal,
    applies: false,
  });
  if (unreadable) await deps.events.record(involved, unreadable.type, unreadable.reason, unreadable.message);
  if (patch) await deps.client.patchJobStatus(m.namespace!, m.name!, patch);
  await deps.events.record(involved, "Warning", INVALID_SPEC, message);
  // Terminal: retrying cannot fix a spec; the next spec change re-queues the job.
  return {};
}

/** The finished job's progress from its event stream, followed from now on; once the replay is in. */
function followedStream(deps: ReconcileDeps, raw: KubernetesObject): ProgressSnapshot | undefined {
  const { namespace, name } = raw.metadata as { namespace: string; name: string };
  const key = jobKey(namespace, name);
  deps.progress.track(key, rawNatsUrl(raw, deps.settings.natsUrl), jobToken(namespace, name));
  return deps.progress.snapshot(key);
}

/**
 * `previous` with the finished job's `terminal` read back from its ConfigMap's records: its phase and
 * condition (True at the completion time), Running False, and the recorded times where it has none
 * (else the ConfigMap's last write by the operator, `writtenAt`: ADR 0023, amendment 23);
 * the conditions observed at the generation the job finished with (the spec record's), as written then.
 */
function restoredStatus(
  previous: Status | undefined,
  terminal: Terminal,
  configMap: V1ConfigMap | undefined,
  now: Date,
  writtenAt: string | undefined,
): Status {
  const record = recordedOutcome(configMap);
  const generation = recordedSpec(configMap)?.generation;
  const completionTime = previous?.completionTime ?? record?.completionTime ?? writtenAt ?? now.toISOString();
  const startTime = previous?.startTime ?? record?.startTime;
  const succeeded = terminal.phase === "Succeeded";
  const updates: ConditionUpdate[] = [
    {
      type: terminal.phase,
      status: "True",
      reason: terminal.reason,
      message: terminal.message,
      at: completionTime,
    },
    succeeded
      ? { type: "Failed", status: "False", reason: "NoFailure", message: "no failure so far" }
      : { type: "Succeeded", status: "False", reason: "NotFinished", message: "training has not finished" },
    { type: "Running", status: "False", reason: terminal.phase, message: `the job is ${terminal.phase}` },
  ];
  return {
    ...previous,
    phase: terminal.phase,
    // a condition of another reason (an InvalidSpec failure written while the outcome was lost) goes:
    // the recorded one turns True at the completionTime, not at that one's time
    conditions: upsertConditions(
      (previous?.conditions ?? []).filter((c) => c.type !== terminal.phase || c.reason === terminal.reason),
      updates,
      now.toISOString(),
      generation,
    ),
    completionTime,
    ...(startTime !== undefined ? { startTime } : {}),
  } as Status;
}

/**
 * The stored status as read, with what the job's children give back of the values that do not read
 * (ADR 0023, amendment 9).
 */
function repairedFrom(seen: Observed, name: string, base: Base, now: Date): Status | undefined {
  return repairedStatus({
    ...base,
    firstPodCreatedAt: firstPodCreatedAt(seen.pods),
    renderedRounds: renderedRounds(seen.configMap),
    clientPod: childNames(name).clientPod,
    now,
  });
}

/** The creationTimestamp (RFC 3339) of the oldest of `pods` not being deleted, if any. */
function firstPodCreatedAt(pods: readonly V1Pod[]): string | undefined {
  const times = pods
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((p) =>
      p.metadata?.creationTimestamp === undefined ? NaN : new Date(p.metadata.creationTimestamp).getTime(),
    )
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : undefined;
}

/** The job's children as the caches hold them. */
interface Observed {
  pods: V1Pod[];
  deployment?: V1Deployment;
  secret?: V1Secret;
  configMap?: V1ConfigMap;
}

function observed(deps: ReconcileDeps, ref: JobRef): Observed {
  const names = childNames(ref.name);
  const find = (kind: string, name: string): KubernetesObject | undefined =>
    deps.informers.children(kind, ref.namespace, ref.uid).find((o) => o.metadata?.name === name);
  return {
    pods: deps.informers.children("Pod", ref.namespace, ref.uid) as V1Pod[],
    deployment: find("Deployment", names.deployment) as V1Deployment | undefined,
    secret: find("Secret", names.secret) as V1Secret | undefined,
    configMap: find("ConfigMap", names.configMap) as V1ConfigMap | undefined,
  };
}

/** What a reconcile builds on: the status as stored (or as last written), and that status read. */
interface Base {
  /** The status as stored, or the operator's own newer write: the status patch is made over it. */
  stored: unknown;
  /** `stored` as the API reads it (of an unreadable one, the fields that read); undefined if none. */
  previous: Status | undefined;
  /** The top-level fields of `stored` the API rejects (none when it reads). */
  rejected: readonly string[];
}

async function reconcileParsed(
  deps: ReconcileDeps,
  edited: SFPromptJob,
  ref: JobRef,
  base: Base,
): Promise<ReconcileResult> {
  const { stored, rejected } = base;
  const key = jobKey(ref.namespace, ref.name);
  const now = deps.now();
  const natsUrl = jobNatsUrl(edited, deps.settings.natsUrl);
  deps.progress.track(key, natsUrl, jobToken(ref.namespace, ref.name));
  const progress = deps.progress.snapshot(key);
  const seen = observed(deps, ref);
  const previous = repairedFrom(seen, ref.name, base, now);
  const restart = deps.settings.clientRestart;
  const plans = planClients(edited.spec.clients.count, seen.pods, restart, now.getTime(), previous?.clients);
  // Parsed once: the lifecycle, the ConfigMap part, the kept server and the finished-edit warning read them.
  const records = finishedRecords(seen.configMap);
  const recordedEnd = records.outcome;
  const recorded = records.spec;
  const lifecycle = decideLifecycle({
    job: edited,
    previous,
    progress,
    plans,
    now,
    recorded: recordedEnd,
    markedFinished: records.finished,
    recordWrittenAt: records.writtenAt,
  });
  // From here on the job as it goes on: an edit its checkpoint cannot resume under is held (ADR 0039).
  const { job, held } = holdRounds({ job: edited, previous, progress, configMap: seen.configMap });
  if (lifecycle.expired) {
    await deps.client.deleteJob(ref.namespace, ref.name, ref.uid);
    await deps.events.record(
      ref,
      "Normal",
      "TTLExpired",
      `deleted ${job.spec.ttlSecondsAfterFinished} s after it finished (spec.ttlSecondsAfterFinished)`,
    );
    return {};
  }
  const jobSecretKey = existingJobKey(seen.secret) ?? generateJobKey();
  const desired = desiredChildren({
    job,
    ref,
    settings: deps.settings,
    jobKey: jobSecretKey,
    lifecycle,
    plans,
    now,
    recorded,
    configMap: seen.configMap,
    recordedOutcome: recordedEnd,
    markedFinished: records.finished,
    ...(seen.deployment ? { deployment: seen.deployment } : {}),
  });
  const applied = new Map<string, KubernetesObject>();
  let failure: { err: unknown; rejected: ChildRejection } | undefined;
  try {
    await applyChildren(deps, ref.namespace, ref.uid, desired, applied);
  } catch (err) {
    const rejected = childRejection(err);
    if (rejected === undefined) throw err;
    failure = { err, rejected };
  }
  const deployment =
    (applied.get(`Deployment/${childNames(ref.name).deployment}`) as V1Deployment | undefined) ??
    seen.deployment;
  const serverPods = deps.informers.serverPods(ref.namespace, ref.name) as V1Pod[];
  const status = computeStatus({
    job: { ...job, status: previous },
    lifecycle,
    deployment,
    serverPods,
    plans,
    progress,
    now,
    natsUrl,
    ...(failure ? { rejected: failure.rejected } : {}),
    ...(held ? { held } : {}),
    desired: desired.apply,
    clientRevision: desired.clientRevision,
    ...(records.finished ? { ranWithRounds: renderedRounds(seen.configMap) } : {}),
  });
  // Events first: whoever sees the new status (a phase of Failed, say) finds the events that explain it.
  const names = childNames(ref.name);
  const created = (p: { index: number; attempt: number }): boolean =>
    applied.has(`Pod/${names.clientPod(p.index, p.attempt)}`);
  const events = transitionEvents({
    previous,
    next: status,
    job,
    plans,
    restartLimit: restart.limit,
    created,
    recorded,
    readBack: lifecycle.readBack,
    configMap: names.configMap,
  });
  const unreadable = unreadableRecordEvent({
    configMap: names.configMap,
    unreadable: records.unreadable,
    terminal: lifecycle.terminal,
    applies: true,
  });
  for (const e of unreadable ? [unreadable, ...events] : events) {
    await deps.events.record(ref, e.type, e.reason, e.message);
  }
  if (failure) await deps.events.record(ref, "Warning", failure.rejected.reason, failure.rejected.message);
  // Over the status as stored: fields of an unreadable one that `status` lacks are removed, not kept;
  // those that only the event stream gives back stay as stored until its replay is in.
  const asStored = progress === undefined ? heldFields(rejected, previous) : [];
  const next = withHeldFields(status, stored, asStored);
  const patch = statusPatch(stored, next);
  if (patch) {
    await deps.client.patchJobStatus(ref.namespace, ref.name, patch);
    deps.written.record(ref.uid, stored, next);
    deps.metrics.statusWrites.inc();
    deps.log.info("status updated", {
      namespace: ref.namespace,
      job: ref.name,
      phase: status.phase,
      ...(asStored.length > 0 ? { leftAsStored: asStored } : { round: status.round }),
    });
  }
  // Retried with backoff: what refused the child (a quota, an admission policy) may change.
  if (failure) throw failure.err;
  // a restarted server container's text changes once it has run for the loop window (ADR 0023, amendment 19)
  const loopEnds = lifecycle.terminal ? undefined : serverLoopRecheckMs(serverPods, now);
  const waits = [
    lifecycle.requeueAfterMs,
    desired.recheckAfterMs,
    loopEnds,
    ...plans.map((p) => p.waitMs),
  ].filter((x): x is number => x !== undefined);
  return waits.length > 0 ? { requeueAfterMs: Math.max(1, Math.min(...waits)) } : {};
}

/** Reconciles the job with work-queue key `key` (namespace/name). Throws to be retried with backoff. */
export async function reconcileJob(deps: ReconcileDeps, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const cached = deps.informers.job(namespace, name);
  if (!cached) {
    await deps.progress.forget(key);
    return {};
  }
  // The cache's object is shared with the informer: never mutate it.
  const raw = structuredClone(cached);
  if (raw.metadata?.deletionTimestamp) return finalizeJob(deps, raw);
  if (await ensureFinalizer(deps, raw)) return {};
  await reportUnreadable(deps, raw, readStoredStatus(raw));
  const { status: _ignored, ...rest } = raw as KubernetesObject & { status?: unknown };
  const parsed = parseJob(rest);
  if (!parsed.ok)
    return reportInvalid(deps, raw, parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  const ref: JobRef = { namespace, name, uid: raw.metadata!.uid! };
  const stored = deps.written.current(ref.uid, (raw as { status?: unknown }).status);
  const read = readStoredStatus({ status: stored });
  const rejected = read.readable ? [] : read.rejected;
  return reconcileParsed(deps, parsed.value, ref, { stored, previous: usableStatus(read), rejected });
}

/**
 * A stored status that does not read as the API's: a warn log (once per resourceVersion) and a
 * Warning Event (once per set of issues) say so; the reconcile then builds on the fields that read
 * and its write replaces the rest (ADR 0023, amendment 5).
 */
async function reportUnreadable(
  deps: ReconcileDeps,
  raw: KubernetesObject,
  read: StoredStatus,
): Promise<void> {
  if (read.readable) return;
  deps.unreadable.report(raw, read.issues);
  const m = raw.metadata!;
  const involved = { namespace: m.namespace!, name: m.name!, uid: m.uid! };
  await deps.events.record(involved, "Warning", STATUS_UNREADABLE, unreadableEventMessage(read.issues));
}
