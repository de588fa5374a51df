// One level-based reconcile of one job: read from the caches → pure desired state → server-side apply
// and prune → pure status → one status patch if it changed. It never asks what event caused it.
import type { KubernetesObject, V1Deployment, V1Pod } from "@kubernetes/client-node";
import { jobToken, parseJob, type SFPromptJob } from "@sfprompt/api";
import { desiredChildren } from "../desired/children.js";
import { renderedRounds } from "../desired/config-map.js";
import { finishedRecords } from "../desired/finished-records.js";
import type { JobRef } from "../desired/owner.js";
import { jobNatsUrl } from "../desired/pod-parts.js";
import { planClients } from "../desired/restart-plan.js";
import { existingJobKey, generateJobKey } from "../desired/secret.js";
import { childNames, jobKey, splitKey } from "../names.js";
import { computeStatus } from "../status/compute-status.js";
import { decideLifecycle } from "../status/lifecycle.js";
import { heldFields, withHeldFields } from "../status/held-fields.js";
import { statusRound } from "../status/job-round.js";
import { serverLoopRecheckMs } from "../status/pod-reason.js";
import { readStoredStatus, type StoredStatus } from "../status/stored-status.js";
import { STATUS_UNREADABLE, unreadableEventMessage } from "../status/unreadable-status.js";
import { applyChildren } from "./apply-children.js";
import { childRejection, type ChildRejection } from "./child-rejection.js";
import type { ReconcileDeps, ReconcileResult } from "./deps.js";
import { ensureFinalizer, finalizeJob } from "./finalizer.js";
import { baseOf, observed, repairedFrom, type Base } from "./observed.js";
import { reportInvalid } from "./report-invalid.js";
import { holdRounds } from "./rounds-hold.js";
import { transitionEvents } from "./transition-events.js";
import { unreadableRecordEvent } from "./unreadable-record.js";
import { writeStatus } from "./write-status.js";

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
  // the round the status reports, kept in the outcome record of a job finishing now (ADR 0034, amendment 8)
  const round = statusRound(previous, progress, recordedEnd?.round);
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
    round,
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
    ...(recordedEnd?.round !== undefined ? { recordedRound: recordedEnd.round } : {}),
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
    writtenAt: records.writtenAt,
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
  if (await writeStatus(deps, ref, stored, next)) {
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
  // both build on the operator's own last write where the cache lags it (ADR 0023, amendment 30)
  const base = baseOf(deps, raw);
  if (!parsed.ok)
    return reportInvalid(deps, raw, base, parsed.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  const ref: JobRef = { namespace, name, uid: raw.metadata!.uid! };
  return reconcileParsed(deps, parsed.value, ref, base);
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
