// Follows a local run's job through its progress events (the session's durable consumer) until the
// job ends, or until its server or every client dies: what ends a method session.
import type { NatsConnection } from "@nats-io/transport-node";
import { consumeEvents, type ProgressEvent } from "@sfprompt/protocol";
import { failureOf, type Child } from "./children.js";
import { JobRunError } from "./errors.js";

/** The durable consumer through which every session follows the job's events. */
export const EVENTS_DURABLE = "sfprompt-run";

export type JobFinished = Extract<ProgressEvent, { type: "job.finished" }>;

/** What follow reads the events of. */
export interface FollowTarget {
  readonly nc: NatsConnection;
  /** The job's data-plane token (names.job). */
  readonly job: string;
  /** Ctrl-C: stops following. */
  readonly signal: AbortSignal;
}

/** How long a cleanly exited server's job.finished event may take to arrive. */
const FINISH_GRACE_MS = 5000;
/** How long closing the event consumer may take before the processes are stopped anyway. */
const EVENTS_CLOSE_MS = 3000;

async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([p.catch(() => undefined), late]);
  clearTimeout(timer);
}

/**
 * What to do about a process config file the child could not use. The file is not the user's to
 * edit: one cut short or gone is written anew by another run; a field refused in it was written from
 * a job file that sfprompt run accepted, so it is sfprompt's fault (or the file was changed meanwhile).
 */
function configFileHint(f: { readonly field: string }): string {
  const anew = "sfprompt run writes that file anew for every session from the job file: run again";
  if (f.field === "(file)" || f.field === "(root)") return anew;
  return `${anew}; it wrote that field from a job file it accepted, so if this recurs it is a bug in sfprompt: report it with the job file and this message`;
}

/**
 * How a failed child is told: what it refused, when it could not have the job's input (the field
 * to fix) or use its own config file (the file and its field), else how it failed; then ": NAME: "
 * and the first line of what it logged.
 */
export async function reasonOf(c: Child, failed: string): Promise<string> {
  const f = await failureOf(c);
  if (f === undefined) return failed;
  if (f.kind === "failed") return `${failed}: ${c.name}: ${f.error}`;
  if (f.kind === "config-file")
    return `could not use its config file: ${c.name}: ${f.error}; ${configFileHint(f)}`;
  return `refused the job's input: ${c.name}: ${f.error}; fix the job's ${f.field} (or what it names on this machine)`;
}

/**
 * Resolves with the job's job.finished event, or undefined when the server exited cleanly without one
 * reaching us (a re-published job.finished inside JetStream's duplicate window is dropped); rejects
 * when the job fails, the server crashes, or every client crashes. `children` are the server, then
 * the clients. `onEvent` (given the event's stream sequence) says "stale" for an event of a replaced
 * run attempt or of an earlier session, which is then passed over: a job end among them is not this
 * session's. The next event waits for `onEvent` (which may read the job's store first).
 */
export async function follow(
  target: FollowTarget,
  children: readonly Child[],
  onEvent: (e: ProgressEvent, seq: number) => Promise<"stale" | "taken">,
): Promise<JobFinished | undefined> {
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  target.signal.addEventListener("abort", abort, { once: true });
  if (target.signal.aborted) abort(); // Ctrl-C came before: an aborted signal fires no listener
  const server = children[0] as Child;
  const clients = children.slice(1);
  const deaths = new Promise<undefined>((resolve, reject) => {
    void server.exited.then(async (x) => {
      if (stop.signal.aborted) return;
      if (x.code !== 0) {
        const why = await reasonOf(server, `exited (code ${x.code}, signal ${x.signal})`);
        reject(new JobRunError(`the server ${why}; see ${server.logFile}`));
      } else setTimeout(() => resolve(undefined), FINISH_GRACE_MS).unref();
    });
    void Promise.all(clients.map((c) => c.exited)).then(async (exits) => {
      const failed = exits.filter((x) => x.code !== 0);
      if (clients.length === 0 || failed.length !== clients.length || stop.signal.aborted) return;
      const first = clients[0] as Child;
      reject(new JobRunError(`every client ${await reasonOf(first, "failed")}; see ${first.logFile}`));
    });
  });
  deaths.catch(() => undefined);
  const events = (async (): Promise<JobFinished> => {
    for await (const d of consumeEvents(target.nc, target.job, EVENTS_DURABLE, stop.signal)) {
      d.ack();
      // a stale event is one of a server the job's restart replaced, or of an earlier session's
      // server: its end is not this session's
      if (!d.ok || (await onEvent(d.event, d.seq)) === "stale") continue;
      if (d.event.type === "job.finished") return d.event;
      if (d.event.type === "job.failed")
        throw new JobRunError(`the job failed: ${d.event.reason}: ${d.event.message}`);
    }
    throw new JobRunError("the run was interrupted");
  })();
  try {
    return await Promise.race([events, deaths]);
  } finally {
    stop.abort();
    target.signal.removeEventListener("abort", abort);
    // closing the consumer asks NATS, which may be gone: the processes are stopped meanwhile
    await settledWithin(events, EVENTS_CLOSE_MS);
  }
}
