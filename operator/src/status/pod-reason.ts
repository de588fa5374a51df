// Why a pod of the job does not run, as one line from the pod's own status (what `kubectl get pod` and
// `kubectl describe pod` show): the conditions' messages name it, so a stuck job says why it is stuck.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";

/** The longest a pod's reason may be in a client's status entry. */
export const MAX_POD_REASON = 1024;

/** The job's hostPath volumes and the spec field each comes from (desired/pod-parts.ts nodeDataMount). */
const DATA_FIELDS: Readonly<Record<string, string>> = {
  data: "spec.data.source",
  "eval-data": "spec.data.evalSource",
};

function terminatedText(t: NonNullable<NonNullable<V1ContainerStatus["state"]>["terminated"]>): string {
  const what = `${t.reason ?? "Error"} (exit code ${t.exitCode})`;
  return t.message ? `${what}: ${t.message}` : what;
}

/**
 * A restart loop's own message is the back-off delay and the pod's name ("back-off 20s restarting
 * failed container=…"), which changes while nothing else does; the last exit says why it loops.
 */
function crashLoopText(c: V1ContainerStatus): string {
  const last = c.lastState?.terminated;
  if (last) return `CrashLoopBackOff: the container keeps exiting; last exit: ${terminatedText(last)}`;
  return `CrashLoopBackOff: the container keeps exiting${c.state?.waiting?.message ? ` (${c.state.waiting.message})` : ""}`;
}

/**
 * A pod in ContainerCreating that mounts the job's data from its node: if the path is not there the
 * pod stays in ContainerCreating for good and only a FailedMount event says so.
 */
function creatingText(pod: V1Pod, reason: string): string {
  const mounts = (pod.spec?.volumes ?? [])
    .filter((v) => v.hostPath !== undefined && DATA_FIELDS[v.name] !== undefined)
    .map((v) => `${DATA_FIELDS[v.name]} ${v.hostPath!.path} (${v.hostPath!.type ?? "hostPath"})`);
  if (mounts.length === 0) return reason;
  const node = pod.spec?.nodeName !== undefined ? `node ${pod.spec.nodeName}` : "its node";
  const name = pod.metadata?.name ?? "";
  return `${reason}: it mounts ${mounts.join(" and ")} from ${node}; if that path is not there it stays in ${reason} (a FailedMount event: kubectl describe pod ${name})`;
}

function waitingText(pod: V1Pod, c: V1ContainerStatus): string {
  const w = c.state!.waiting!;
  const reason = w.reason!;
  if (reason === "CrashLoopBackOff") return crashLoopText(c);
  if ((reason === "ContainerCreating" || reason === "PodInitializing") && !w.message)
    return creatingText(pod, reason);
  return w.message ? `${reason}: ${w.message}` : reason;
}

/** The waiting reasons a container restarted in place shows between its tries. */
const BETWEEN_TRIES = new Set(["CrashLoopBackOff", "ContainerCreating", "PodInitializing"]);

/**
 * How long a container restarted in place must have run since its last start to be out of a restart
 * loop: the kubelet's own measure, after which it resets the container's back-off (10 minutes).
 */
export const RESTART_LOOP_WINDOW_MS = 10 * 60 * 1000;

/**
 * When a running container restarted in place last started: its run's startedAt, else its last exit's
 * finishedAt (the kubelet starts it again right after, or after the back-off); ms since the epoch.
 */
function lastStartMs(c: V1ContainerStatus): number | undefined {
  const at = c.state?.running?.startedAt ?? c.lastState?.terminated?.finishedAt;
  const ms = at === undefined ? NaN : new Date(at).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Ms until a running, not ready container restarted in place has run for the loop window, if it is
 * still within it: the time alone then changes its text. Undefined for any other container, and
 * without `now`.
 */
function loopWindowLeftMs(
  pod: V1Pod | undefined,
  c: V1ContainerStatus,
  now: Date | undefined,
): number | undefined {
  if (now === undefined || pod?.spec?.restartPolicy !== "Always" || c.ready) return undefined;
  if (c.state?.running === undefined || c.lastState?.terminated === undefined) return undefined;
  const started = lastStartMs(c);
  if (started === undefined) return undefined;
  return started + RESTART_LOOP_WINDOW_MS - now.getTime();
}

/**
 * A container the kubelet restarts in place (restartPolicy Always: the server Deployment's pods) that
 * has exited and is not ready. A restart loop shows it running, then terminated, then waiting in
 * CrashLoopBackOff at every try; a text per state rewrote the job's status three times per back-off.
 * The latest exit is what each of those states has in common and what says why it loops. A waiting
 * reason of its own (an image that no longer pulls) still speaks for itself.
 */
function restartedText(pod: V1Pod | undefined, c: V1ContainerStatus, now?: Date): string | undefined {
  if (pod?.spec?.restartPolicy !== "Always" || c.ready) return undefined;
  // running for the loop window since its last start: an old restart, not a loop (it runs, not ready)
  const left = loopWindowLeftMs(pod, c, now);
  if (left !== undefined && left <= 0) return undefined;
  const waiting = c.state?.waiting?.reason;
  if (waiting !== undefined && !BETWEEN_TRIES.has(waiting)) return undefined;
  const last = c.state?.terminated ?? c.lastState?.terminated;
  if (last === undefined) return undefined;
  return `the container exited and is restarted in place (CrashLoopBackOff between tries; kubectl logs --previous shows the run before); last exit: ${terminatedText(last)}`;
}

/**
 * Why a pod ended or waits, from its container states and conditions; undefined for a pod that runs
 * normally. `now` tells a restart loop from a container that restarted long ago and runs (ADR 0023,
 * amendment 19); without it every restarted container that is not ready reads as in a loop.
 */
export function podReason(pod: V1Pod | undefined, now?: Date): string | undefined {
  const statuses = pod?.status?.containerStatuses ?? [];
  const restarted = statuses.map((c) => restartedText(pod, c, now)).find((t) => t !== undefined);
  if (restarted) return cut(restarted);
  const terminated = statuses.map((c) => c.state?.terminated).find((t) => t !== undefined);
  if (terminated) return cut(terminatedText(terminated));
  const waiting = statuses.find((c) => c.state?.waiting?.reason !== undefined);
  if (waiting) return cut(waitingText(pod!, waiting));
  const unscheduled = pod?.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unscheduled)
    return cut(`${unscheduled.reason ?? "Unschedulable"}: ${unscheduled.message ?? ""}`.trim());
  if (pod?.status?.reason) return cut(`${pod.status.reason}: ${pod.status.message ?? ""}`.trim());
  return undefined;
}

function cut(text: string, max = MAX_POD_REASON): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function ready(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

function created(pod: V1Pod): number {
  const t = pod.metadata?.creationTimestamp;
  return t === undefined ? 0 : new Date(t).getTime();
}

/** The server pods not being deleted, newest first (the one whose state the status speaks of). */
function newestFirst(pods: readonly V1Pod[]): V1Pod[] {
  return pods
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .sort(
      (a, b) => created(b) - created(a) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
    );
}

/**
 * Ms until the newest server pod's restarted container has run for the loop window, when it runs and
 * is within it: the reconcile comes back then, as the text changes with the time alone.
 */
export function serverLoopRecheckMs(pods: readonly V1Pod[], now: Date): number | undefined {
  const pod = newestFirst(pods)[0];
  const left = (pod?.status?.containerStatuses ?? [])
    .map((c) => loopWindowLeftMs(pod, c, now))
    .filter((ms): ms is number => ms !== undefined && ms > 0);
  return left.length > 0 ? Math.min(...left) : undefined;
}

/** What keeps the server from being available, from its pods (the newest one speaks), at `now`. */
export function serverPodsText(pods: readonly V1Pod[], now?: Date): string {
  const live = newestFirst(pods);
  if (live.length === 0) return "no server pod exists yet (kubectl describe deployment shows why)";
  const pod = live[0]!;
  const name = pod.metadata?.name ?? "";
  const why = podReason(pod, now);
  if (why !== undefined) return `server pod ${name}: ${cut(why, 600)}`;
  if (pod.status?.phase === "Running" && !ready(pod))
    return `server pod ${name} runs but is not ready yet (kubectl logs ${name})`;
  return `server pod ${name} is ${pod.status?.phase ?? "Pending"}`;
}

/** How many distinct reasons a ClientsReady message names, and how long each may be there. */
const MAX_GROUPS = 4;
const MAX_GROUP_REASON = 300;
/** How many client indexes one list in a ClientsReady message names before it counts the rest. */
export const MAX_LISTED_CLIENTS = 32;

/**
 * "0, 1, 2" or, past 32 indexes, "0, 1, …, 31 and 968 more": a job may have 10000 clients, and a
 * condition's message holds 32768 characters, so whole lists would push the reasons out of it.
 */
export function clientIndexList(ix: readonly number[]): string {
  if (ix.length <= MAX_LISTED_CLIENTS) return ix.join(", ");
  return `${ix.slice(0, MAX_LISTED_CLIENTS).join(", ")} and ${ix.length - MAX_LISTED_CLIENTS} more`;
}

/**
 * Why the clients that do not run do not, grouped by reason (every client of a job often waits for the
 * same image or node): "clients 0, 1: ImagePullBackOff: …; client 2: Unschedulable: …". Bounded: the
 * first four reasons, each cut to 300 characters, each naming at most 32 clients;
 * status.clients[].reason has each in full.
 */
export function clientsWhyText(entries: readonly { index: number; reason?: string | undefined }[]): string {
  const groups = new Map<string, number[]>();
  for (const e of entries) {
    if (e.reason === undefined || e.reason === "") continue;
    const key = cut(e.reason, MAX_GROUP_REASON);
    groups.set(key, [...(groups.get(key) ?? []), e.index]);
  }
  const parts = [...groups].slice(0, MAX_GROUPS).map(([reason, ix]) => {
    return `${ix.length > 1 ? "clients" : "client"} ${clientIndexList(ix)}: ${reason}`;
  });
  if (groups.size > MAX_GROUPS)
    parts.push(`${groups.size - MAX_GROUPS} more reasons in status.clients[].reason`);
  return parts.join("; ");
}
