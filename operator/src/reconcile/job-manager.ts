// Everything that runs only while this process leads: informers, the work queue, the workers, the
// progress tracker and the periodic resync. Built fresh on each leadership term, torn down after.
import type { KubeConfig } from "@kubernetes/client-node";
import type { JobRounds } from "../http/job-rounds.js";
import type { OperatorConfig } from "../config.js";
import { createEventRecorder } from "../kube/event-recorder.js";
import { Informers } from "../kube/informers.js";
import { ObjectClient } from "../kube/object-client.js";
import type { Logger } from "../log.js";
import type { OperatorMetrics } from "../metrics.js";
import { jobKey } from "../names.js";
import { NatsPool } from "../progress/nats-pool.js";
import { ProgressTracker } from "../progress/progress-tracker.js";
import { roundsInOrder } from "../progress/round-history.js";
import { WorkQueue } from "../queue/work-queue.js";
import { UnreadableStatusLog } from "../status/unreadable-status.js";
import { WrittenStatus } from "../status/written-status.js";
import { Controller } from "./controller.js";
import { reconcileJob } from "./reconcile-job.js";

export class JobManager {
  readonly queue: WorkQueue;
  readonly informers: Informers;
  /** Shared by the reconciler and the /metrics job series: one warn per job and resourceVersion. */
  readonly unreadable: UnreadableStatusLog;
  private readonly controller: Controller;
  private readonly progress: ProgressTracker;
  private readonly pool: NatsPool;
  private resync: NodeJS.Timeout | undefined;

  constructor(kc: KubeConfig, config: OperatorConfig, metrics: OperatorMetrics, log: Logger) {
    this.queue = new WorkQueue({ backoff: config.queue, qps: config.queue.qps, burst: config.queue.burst });
    const enqueue = (key: string): void => this.queue.add(key);
    this.unreadable = new UnreadableStatusLog(log);
    this.informers = new Informers(
      kc,
      { namespaces: config.namespaces, restartDelayMs: config.retryMs, log },
      enqueue,
    );
    this.pool = new NatsPool(log, Math.min(config.finalizer.attemptTimeoutMs, 5000));
    this.progress = new ProgressTracker({ pool: this.pool, log, retryMs: config.retryMs, onChange: enqueue });
    const deps = {
      informers: this.informers,
      client: new ObjectClient(kc),
      events: createEventRecorder(kc, "sfprompt-operator", log),
      progress: this.progress,
      pool: this.pool,
      settings: config.children,
      finalizer: config.finalizer,
      log,
      metrics,
      written: new WrittenStatus(),
      unreadable: this.unreadable,
      now: () => new Date(),
    };
    this.controller = new Controller({
      queue: this.queue,
      reconcile: (k) => reconcileJob(deps, k),
      metrics,
      log,
      workers: config.workers,
    });
    this.resyncEvery(config.resyncMs);
  }

  async start(): Promise<void> {
    await this.informers.start();
    this.controller.start();
  }

  /** The rounds of a job this operator follows, once its progress stream is replayed. */
  rounds(namespace: string, name: string): JobRounds | undefined {
    const job = this.informers.job(namespace, name) as { spec?: { method?: unknown } } | undefined;
    const snapshot = this.progress.snapshot(jobKey(namespace, name));
    if (!job || !snapshot) return undefined;
    const method = typeof job.spec?.method === "string" ? job.spec.method : "sfprompt";
    return { method, rounds: roundsInOrder(snapshot.roundHistory) };
  }

  /** Stops watching, lets reconciles in progress finish, and drains NATS. */
  async stop(): Promise<void> {
    clearInterval(this.resync);
    await this.informers.stop();
    await this.controller.stop();
    await this.progress.stop();
    await this.pool.drain();
  }

  private resyncEvery(ms: number): void {
    this.resync = setInterval(() => {
      for (const j of this.informers.jobs())
        this.queue.add(jobKey(j.metadata!.namespace!, j.metadata!.name!));
    }, ms);
    this.resync.unref();
  }
}
