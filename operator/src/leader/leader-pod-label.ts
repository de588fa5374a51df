// The leader's pod label: while this process leads, its own pod carries sfprompt.io/operator-role=leader
// and no other operator pod of the release does, so a Service selecting the label (the chart's
// <fullname>-leader) reaches the leader only (ADR 0023, amendments 3 and 4). A pass runs at start, on
// every resync, and when a watch sees a label change (leader-label-watch.ts). Failures are logged and
// retried; they never end leadership.
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { failedWithAdvice, httpStatus } from "../errors.js";
import type { Logger } from "../log.js";
import { LeaderLabelWatch } from "./leader-label-watch.js";

export const LEADER_POD_LABEL = "sfprompt.io/operator-role";
export const LEADER_POD_VALUE = "leader";

export interface LeaderPodOptions {
  /** This process's pod (the Downward API's POD_NAME and POD_NAMESPACE). */
  name: string;
  namespace: string;
  /** Equality selector of the release's operator pods, e.g. "app.kubernetes.io/instance=sfprompt". */
  selector: string;
  /** First pause after a failure; doubles up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
  /** After a success, the labels are checked again this often. */
  resyncMs: number;
  /** The server ends each watch on labelled pods after this long; 20 s by default. */
  watchSeconds?: number;
  log: Logger;
}

/** A labelled pod as listed: its name and the resourceVersion a removal is conditioned on. */
export interface LabelledPod {
  name: string;
  resourceVersion: string;
}

export interface LabelChanges {
  /** This pod lacks the label. */
  labelSelf: boolean;
  /** Other pods that carry it (a former leader's), to clear. */
  clear: LabelledPod[];
}

/** What to change, given the release's pods that carry the label now. */
export function labelChanges(labelled: readonly LabelledPod[], self: string): LabelChanges {
  return {
    labelSelf: !labelled.some((p) => p.name === self),
    clear: labelled.filter((p) => p.name !== self),
  };
}

/**
 * How clearing one pod's label ended. `changed`: the pod changed since it was listed (HTTP 409 on the
 * resourceVersion precondition), so it is listed again and looked at afresh; not a failure.
 */
export type ClearOutcome = "cleared" | "gone" | "changed";

/** How a pass ended: `settled`, or a pod changed under it and the next pass should come soon. */
export type PassOutcome = "settled" | "changed";

/** The pause before the next pass: a resync after a settled pass, the short retry after a change. */
export function nextPassMs(outcome: PassOutcome, timing: { retryMs: number; resyncMs: number }): number {
  return outcome === "changed" ? Math.min(timing.retryMs, timing.resyncMs) : timing.resyncMs;
}

/** Labelling or unlabelling a pod failed; the message says what the operator needs. */
export class LeaderPodLabelError extends Error {
  override readonly name = "LeaderPodLabelError";
  constructor(
    readonly action: string,
    readonly namespace: string,
    options: { cause: unknown },
  ) {
    const byStatus = {
      403: `the operator's ServiceAccount needs list, watch and patch on pods in namespace ${namespace} (the chart's Role grants them)`,
      404: "POD_NAME and POD_NAMESPACE must name this process's own pod (the chart sets them with the Downward API)",
    };
    super(failedWithAdvice(action, options.cause, { byStatus, otherwise: "will retry" }), options);
  }
}

/** `work`, or a rejection when it takes longer than `ms` (the timer does not hold the process). */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  const timer = new AbortController();
  const late = sleep(ms, undefined, { signal: timer.signal }).then(() => {
    throw new Error(`no answer within ${ms} ms`);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    timer.abort();
  }
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Takes the leader label off `pod`, if it has not changed since it was listed. */
export async function clearLabel(api: CoreV1Api, namespace: string, pod: LabelledPod): Promise<ClearOutcome> {
  const body = { metadata: { resourceVersion: pod.resourceVersion, labels: { [LEADER_POD_LABEL]: null } } };
  try {
    await api.patchNamespacedPod({ name: pod.name, namespace, body }, mergePatch);
    return "cleared";
  } catch (err) {
    const status = httpStatus(err);
    if (status === 404) return "gone"; // and its label with it
    if (status === 409) return "changed";
    throw new LeaderPodLabelError(
      `clearing ${LEADER_POD_LABEL} from pod ${namespace}/${pod.name}`,
      namespace,
      {
        cause: err,
      },
    );
  }
}

export class LeaderPodLabel {
  private readonly api: CoreV1Api;
  private abort: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly watch: LeaderLabelWatch;
  private readonly labelSelector: string;
  /** Ends the pause between passes early; set while the loop pauses. */
  private wake: (() => void) | undefined;
  /** A pass was asked for while one ran: the next one starts without a pause. */
  private wanted = false;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderPodOptions,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.labelSelector = `${opts.selector},${LEADER_POD_LABEL}=${LEADER_POD_VALUE}`;
    this.watch = new LeaderLabelWatch(kc, {
      namespace: opts.namespace,
      labelSelector: this.labelSelector,
      self: opts.name,
      retryMs: opts.retryMs,
      maxRetryMs: opts.maxRetryMs,
      watchSeconds: opts.watchSeconds,
      log: opts.log,
      onChange: () => this.passSoon(),
    });
  }

  /** Starts keeping the label on this pod only, until stop(). */
  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
    this.watch.start();
  }

  /**
   * Stops, then takes the label off this pod: one try within `timeoutMs`, as the process may be about
   * to exit; if it fails, the next leader clears it. Nothing is sent once this has resolved: a pass
   * under way sends no patch after the stop, and a removal not sent within `timeoutMs` is not sent.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.abort) return;
    this.watch.stop();
    this.abort.abort();
    this.abort = undefined;
    const { name, namespace } = this.opts;
    let gaveUp = false;
    try {
      // After the pass under way, which must not label the pod once the label is off.
      const off = this.loop.then(() =>
        gaveUp ? undefined : this.patch(name, { metadata: { labels: { [LEADER_POD_LABEL]: null } } }),
      );
      await within(off, timeoutMs);
    } catch (cause) {
      gaveUp = true;
      const action = `removing ${LEADER_POD_LABEL} from pod ${namespace}/${name}`;
      this.opts.log.warn("could not take the leader label off this pod; the next leader removes it", {
        pod: `${namespace}/${name}`,
        err: new LeaderPodLabelError(action, namespace, { cause }),
      });
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { retryMs, maxRetryMs, resyncMs, log, name, namespace } = this.opts;
    let delay = retryMs;
    while (!signal.aborted) {
      let wait: number;
      let wakeable = true;
      this.wanted = false; // this pass sees what was asked for until now
      try {
        wait = nextPassMs(await this.sync(signal), { retryMs, resyncMs });
        delay = retryMs;
      } catch (err) {
        log.error(
          "could not label the leader's pod; a Service selecting the label misses the leader until this succeeds",
          {
            pod: `${namespace}/${name}`,
            label: `${LEADER_POD_LABEL}=${LEADER_POD_VALUE}`,
            retryInMs: delay,
            err,
          },
        );
        wait = delay;
        wakeable = false; // the backoff holds even if watched pods keep changing
        delay = Math.min(delay * 2, maxRetryMs);
      }
      await this.pause(wait, signal, wakeable);
    }
  }

  /** Asks for a pass now: ends the pause under way, or skips the next one if a pass is running. */
  private passSoon(): void {
    if (this.wake) this.wake();
    else this.wanted = true;
  }

  /** Waits `ms`, or less if the loop is stopped or, when `wakeable`, a pass is asked for. */
  private async pause(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    if ((this.wanted && wakeable) || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", end);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      signal.addEventListener("abort", end);
      if (wakeable) this.wake = end;
    });
  }

  /**
   * One pass: label this pod if it is not, then clear the label from every other pod of the release.
   * Once `signal` is aborted (stop()) it sends nothing more.
   */
  private async sync(signal: AbortSignal): Promise<PassOutcome> {
    const { name, namespace, log } = this.opts;
    const labelSelector = this.labelSelector;
    let labelled: LabelledPod[];
    try {
      const list = await this.api.listNamespacedPod({ namespace, labelSelector });
      labelled = list.items.map((p) => ({
        name: p.metadata?.name ?? "",
        resourceVersion: p.metadata?.resourceVersion ?? "",
      }));
    } catch (err) {
      throw new LeaderPodLabelError(`listing pods ${labelSelector} in ${namespace}`, namespace, {
        cause: err,
      });
    }
    if (signal.aborted) return "settled";
    const changes = labelChanges(labelled, name);
    if (changes.labelSelf) {
      await this.patch(name, { metadata: { labels: { [LEADER_POD_LABEL]: LEADER_POD_VALUE } } }).catch(
        (err: unknown) => {
          throw new LeaderPodLabelError(`labelling pod ${namespace}/${name}`, namespace, { cause: err });
        },
      );
      log.info("labelled this pod as the leader's", { pod: `${namespace}/${name}`, label: LEADER_POD_LABEL });
    }
    let outcome: PassOutcome = "settled";
    for (const pod of changes.clear) {
      if (signal.aborted) break;
      const pair = { pod: `${namespace}/${pod.name}`, label: LEADER_POD_LABEL };
      const cleared = await clearLabel(this.api, namespace, pod);
      if (cleared === "cleared") log.info("cleared a stale leader label", pair);
      if (cleared === "changed") {
        log.debug("a labelled pod changed since it was listed; looking at it again soon", {
          ...pair,
          retryInMs: nextPassMs("changed", this.opts),
        });
        outcome = "changed";
      }
    }
    return outcome;
  }

  private async patch(name: string, body: object): Promise<void> {
    await this.api.patchNamespacedPod({ name, namespace: this.opts.namespace, body }, mergePatch);
  }
}
