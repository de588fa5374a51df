// A watch on the release's pods that carry the leader label, so the leader looks again within moments
// when another pod gains the label or its own loses it, not at the next resync (ADR 0023, amendment 4).
// It only wakes the leader's pass, which decides what to change; a failed watch is logged and retried.
import { Watch, type KubeConfig } from "@kubernetes/client-node";
import { failedWithAdvice } from "../errors.js";
import type { Logger } from "../log.js";
import { backoffDelay } from "../queue/backoff.js";

/**
 * Whether a watch event calls for a pass. The watch selects labelled pods only, so another pod's ADDED
 * or MODIFIED means it carries the label, and this pod's DELETED means its label is gone (or the pod).
 * This pod gaining the label and another losing it are what a pass does itself: no new pass for those.
 */
export function callsForPass(phase: string, pod: string, self: string): boolean {
  if (pod === self) return phase === "DELETED";
  return phase === "ADDED" || phase === "MODIFIED";
}

/** The watch failed: it is started again after a pause, and a pass looks at what it may have missed. */
export class LeaderLabelWatchError extends Error {
  override readonly name = "LeaderLabelWatchError";
  constructor(
    readonly namespace: string,
    readonly labelSelector: string,
    options: { cause: unknown },
  ) {
    const byStatus = {
      403: `the operator's ServiceAccount needs watch on pods in namespace ${namespace} (the chart's Role grants it); until then the leader label is checked every resync only`,
    };
    const action = `watching pods ${labelSelector} in ${namespace}`;
    super(failedWithAdvice(action, options.cause, { byStatus, otherwise: "will watch again" }), options);
  }
}

export interface LeaderLabelWatchOptions {
  namespace: string;
  /** The release's selector plus the leader label. */
  labelSelector: string;
  /** This process's pod. */
  self: string;
  /** First pause after a failed watch; doubles up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
  /** The server ends each watch after this long (default 20 s); it is opened again at once. */
  watchSeconds?: number;
  log: Logger;
  /** Called when a pass is needed. */
  onChange: () => void;
}

// The server ends each watch after this long; the client gives up on a watch quiet for 30 s, and a
// label-selected watch is quiet most of the time.
const WATCH_SECONDS = 20;

export class LeaderLabelWatch {
  private readonly watch: Watch;
  private connection: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failures = 0;
  /** Set once a watch was opened: each one opened after it starts a pass, for what its gap missed. */
  private opened = false;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderLabelWatchOptions,
  ) {
    this.watch = new Watch(kc);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.opened = false;
    this.connect();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.connection?.abort();
    this.connection = undefined;
  }

  private connect(): void {
    const { namespace, labelSelector, self, onChange } = this.opts;
    // No resourceVersion: the watch starts with an ADDED event for each pod labelled now.
    const query = { labelSelector, timeoutSeconds: this.watchSeconds() };
    const onEvent = (phase: string, obj: { metadata?: { name?: string } } | undefined): void => {
      this.failures = 0;
      const name = obj?.metadata?.name;
      if (typeof name === "string" && callsForPass(phase, name, self)) onChange();
    };
    let ended = false;
    const since = Date.now();
    const done = (err: unknown): void => {
      ended = true;
      this.connection = undefined;
      this.ended(err, Date.now() - since);
    };
    this.watch.watch(`/api/v1/namespaces/${namespace}/pods`, query, onEvent, done).then(
      (connection) => {
        if (!this.running || ended) return connection.abort();
        this.connection = connection;
        // A change between the last watch's end and this one's start reached neither: one pass (one
        // list) now sees it, rather than the next resync. start() makes the first pass itself.
        if (this.opened) onChange();
        this.opened = true;
      },
      (err: unknown) => {
        if (!ended) done(err);
      },
    );
  }

  private watchSeconds(): number {
    return this.opts.watchSeconds ?? WATCH_SECONDS;
  }

  /** The server ended the watch, or it failed: start it again, after a pause and a pass if it failed. */
  private ended(err: unknown, lastedMs: number): void {
    if (!this.running) return;
    // A watch the server ends early (not at its timeout) is not started again at once, in a hot loop.
    let pause = lastedMs < (this.watchSeconds() * 1000) / 2 ? this.opts.retryMs : 0;
    if (err) {
      this.failures += 1;
      pause = backoffDelay({ baseMs: this.opts.retryMs, maxMs: this.opts.maxRetryMs }, this.failures);
      this.opts.log.warn("the watch on leader-labelled pods failed; watching again", {
        retryInMs: pause,
        err: new LeaderLabelWatchError(this.opts.namespace, this.opts.labelSelector, { cause: err }),
      });
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      if (err) this.opts.onChange(); // what changed while it was down
      this.connect();
    }, pause);
  }
}
