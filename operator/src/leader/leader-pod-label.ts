// The leader's pod label: while this process leads, its own pod carries sfprompt.io/operator-role=leader
// and no other operator pod of the release does, so a Service selecting the label (the chart's
// <fullname>-leader) reaches the leader only (ADR 0023, amendment 3). Failures are logged and retried;
// they never end leadership.
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { errorDetail, httpStatus } from "../errors.js";
import type { Logger } from "../log.js";

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

/** Labelling or unlabelling a pod failed; the message says what the operator needs. */
export class LeaderPodLabelError extends Error {
  override readonly name = "LeaderPodLabelError";
  constructor(
    readonly action: string,
    readonly namespace: string,
    options: { cause: unknown },
  ) {
    const status = httpStatus(options.cause);
    const advice =
      status === 403
        ? `the operator's ServiceAccount needs list and patch on pods in namespace ${namespace} (the chart's Role grants them)`
        : status === 404
          ? "POD_NAME and POD_NAMESPACE must name this process's own pod (the chart sets them with the Downward API)"
          : "will retry";
    super(
      `${action} failed${status ? ` (HTTP ${status})` : ""}: ${errorDetail(options.cause)}; ${advice}`,
      options,
    );
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

export class LeaderPodLabel {
  private readonly api: CoreV1Api;
  private abort: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderPodOptions,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  /** Starts keeping the label on this pod only, until stop(). */
  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  /**
   * Stops, then takes the label off this pod: one try within `timeoutMs`, as the process may be about
   * to exit; if it fails, the next leader clears it.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.abort) return;
    this.abort.abort();
    this.abort = undefined;
    const { name, namespace } = this.opts;
    try {
      // After the pass under way, which must not label the pod once the label is off.
      const off = this.loop.then(() =>
        this.patch(name, { metadata: { labels: { [LEADER_POD_LABEL]: null } } }),
      );
      await within(off, timeoutMs);
    } catch (cause) {
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
      let wait = resyncMs;
      try {
        await this.sync();
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
        delay = Math.min(delay * 2, maxRetryMs);
      }
      await sleep(wait, undefined, { signal }).catch(() => undefined); // aborted: the loop ends
    }
  }

  /** One pass: label this pod if it is not, then clear the label from every other pod of the release. */
  private async sync(): Promise<void> {
    const { name, namespace, selector, log } = this.opts;
    const labelSelector = `${selector},${LEADER_POD_LABEL}=${LEADER_POD_VALUE}`;
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
    const changes = labelChanges(labelled, name);
    if (changes.labelSelf) {
      await this.patch(name, { metadata: { labels: { [LEADER_POD_LABEL]: LEADER_POD_VALUE } } }).catch(
        (err: unknown) => {
          throw new LeaderPodLabelError(`labelling pod ${namespace}/${name}`, namespace, { cause: err });
        },
      );
      log.info("labelled this pod as the leader's", { pod: `${namespace}/${name}`, label: LEADER_POD_LABEL });
    }
    for (const pod of changes.clear) {
      // Conditioned on the listed resourceVersion: a pod that changed since is looked at again next pass.
      const body = {
        metadata: { resourceVersion: pod.resourceVersion, labels: { [LEADER_POD_LABEL]: null } },
      };
      try {
        await this.patch(pod.name, body);
        log.info("cleared a stale leader label", {
          pod: `${namespace}/${pod.name}`,
          label: LEADER_POD_LABEL,
        });
      } catch (err) {
        if (httpStatus(err) === 404) continue; // gone, and its label with it
        throw new LeaderPodLabelError(
          `clearing ${LEADER_POD_LABEL} from pod ${namespace}/${pod.name}`,
          namespace,
          {
            cause: err,
          },
        );
      }
    }
  }

  private async patch(name: string, body: object): Promise<void> {
    await this.api.patchNamespacedPod({ name, namespace: this.opts.namespace, body }, mergePatch);
  }
}
