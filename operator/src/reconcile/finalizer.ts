// The finalizer's work on a job being deleted: remove its NATS resources (a bucket the spec names
// outlives it), then let it go. NATS being unreachable delays the deletion with backoff and Warning
// events, but never beyond giveUpAfterMs.
import type { KubernetesObject } from "@kubernetes/client-node";
import { natsNames } from "@sfprompt/api";
import { deleteJobResources, type DeletedJobResources, type JobNames } from "@sfprompt/protocol";
import { NatsCleanupError } from "../errors.js";
import { FINALIZER, jobKey } from "../names.js";
import type { ReconcileDeps, ReconcileResult } from "./deps.js";

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function transportUrl(job: KubernetesObject, fallback: string): string {
  const url = (job as { spec?: { transport?: { url?: string } } }).spec?.transport?.url;
  return url ?? fallback;
}

/**
 * The job's token and its default bucket, whatever spec.output.bucket says now: the default bucket
 * is the job's own whether or not the spec names another one, so it is always deleted (unless another
 * job's owner marker claims it). A job whose spec.output.bucket was set after it ran with the default
 * one (before the field was immutable) leaves no default bucket behind (ADR 0045, third amendment).
 */
export function cleanupNames(job: KubernetesObject): JobNames {
  const m = job.metadata!;
  return natsNames(m.namespace!, m.name!);
}

/** The bucket spec.output.bucket names, kept with its objects; undefined when unset or the default. */
export function keptBucket(job: KubernetesObject): string | undefined {
  const bucket = (job as { spec?: { output?: { bucket?: unknown } } }).spec?.output?.bucket;
  if (typeof bucket !== "string") return undefined;
  return bucket === cleanupNames(job).bucket ? undefined : bucket;
}

/**
 * Every NATS the job's streams may be at: those the status recorded (the job may have moved with
 * spec.transport.url, or the operator's default changed) and the one it names now.
 */
export function cleanupUrls(job: KubernetesObject, fallback: string): string[] {
  const recorded = (job as { status?: { natsUrls?: unknown } }).status?.natsUrls;
  const urls = Array.isArray(recorded) ? recorded.filter((u): u is string => typeof u === "string") : [];
  return [...new Set([...urls, transportUrl(job, fallback)])];
}

/**
 * Removes the job's stream, state and default bucket at NATS `url`, within the finalizer's attempt
 * timeout; a bucket the spec names is not touched (ADR 0045).
 */
async function cleanAt(deps: ReconcileDeps, url: string, names: JobNames): Promise<DeletedJobResources> {
  const nc = await withTimeout(
    deps.pool.get(url),
    deps.finalizer.attemptTimeoutMs,
    `connecting to NATS at ${url}`,
  );
  return withTimeout(
    deleteJobResources(nc, names),
    deps.finalizer.attemptTimeoutMs,
    `deleting the job's streams at ${url}`,
  );
}

/** What the cleanup left and why (ADR 0045 and its amendments), for the log line. */
function keptFields(r: DeletedJobResources, named: string | undefined): Record<string, unknown> {
  const kept = named === undefined ? [] : [`OBJ_${named}`];
  const reasons = named === undefined ? [] : ["spec.output.bucket outlives the job"];
  if (r.keptFor !== undefined) {
    kept.push(...r.kept);
    reasons.push(
      r.keptFor === "unreadable"
        ? "the default bucket's owner object cannot be read: whose it is is unknown"
        : `the default bucket's owner object names job ${r.keptFor}, whose spec.output.bucket named it`,
    );
  }
  return kept.length === 0 ? {} : { kept, reason: reasons.join("; ") };
}

/** Adds the finalizer when missing; true when it wrote (the resulting update re-queues the job). */
export async function ensureFinalizer(deps: ReconcileDeps, job: KubernetesObject): Promise<boolean> {
  const m = job.metadata!;
  const finalizers = m.finalizers ?? [];
  if (finalizers.includes(FINALIZER)) return false;
  await deps.client.setJobFinalizers(m.namespace!, m.name!, m.resourceVersion!, [...finalizers, FINALIZER]);
  return true;
}

export async function finalizeJob(deps: ReconcileDeps, job: KubernetesObject): Promise<ReconcileResult> {
  const m = job.metadata!;
  const namespace = m.namespace!;
  const name = m.name!;
  const key = jobKey(namespace, name);
  const involved = { namespace, name, uid: m.uid! };
  await deps.progress.forget(key);
  if (!(m.finalizers ?? []).includes(FINALIZER)) return {};
  const names = cleanupNames(job);
  const named = keptBucket(job);
  const token = names.job;
  // Each NATS is tried, also after one failed: a reachable one is cleaned even if an old one is gone.
  const failed: { url: string; cause: unknown }[] = [];
  for (const url of cleanupUrls(job, deps.settings.natsUrl)) {
    try {
      const r = await cleanAt(deps, url, names);
      deps.log.info("removed the job's NATS resources", {
        namespace,
        job: name,
        natsUrl: url,
        deleted: r.deleted,
        ...keptFields(r, named),
      });
    } catch (cause) {
      failed.push({ url, cause });
    }
  }
  if (failed.length > 0) {
    const since = deps.now().getTime() - new Date(m.deletionTimestamp ?? deps.now()).getTime();
    const cause =
      failed.length === 1
        ? failed[0]!.cause
        : new AggregateError(
            failed.map((f) => f.cause),
            failed.map((f) => `${f.url}: ${(f.cause as Error)?.message ?? String(f.cause)}`).join("; "),
          );
    const err = new NatsCleanupError(key, { cause });
    if (since < deps.finalizer.giveUpAfterMs) {
      await deps.events.record(involved, "Warning", "NatsCleanupFailed", err.message);
      throw err;
    }
    await deps.events.record(
      involved,
      "Warning",
      "NatsCleanupAbandoned",
      `gave up removing the job's NATS streams (${token}) at ${failed.map((f) => f.url).join(", ")} after ${Math.round(since / 1000)} s; delete them by hand if NATS comes back`,
    );
  }
  await deps.client.setJobFinalizers(
    namespace,
    name,
    m.resourceVersion!,
    (m.finalizers ?? []).filter((f) => f !== FINALIZER),
  );
  deps.events.forget(m.uid!);
  deps.written.forget(m.uid!);
  deps.unreadable.forget(m.uid!);
  return {};
}
