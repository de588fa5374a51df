// The worker loop: takes job keys from the work queue, reconciles them, and decides what happens to
// the key next (forget, requeue after a known wait, or retry with per-key backoff).
import type { Logger } from "../log.js";
import type { OperatorMetrics } from "../metrics.js";
import type { WorkQueue } from "../queue/work-queue.js";
import type { ReconcileResult } from "./deps.js";

export interface ControllerOptions {
  queue: WorkQueue;
  reconcile: (key: string) => Promise<ReconcileResult>;
  metrics: OperatorMetrics;
  log: Logger;
  workers: number;
}

export class Controller {
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: ControllerOptions) {}

  start(): void {
    this.loops = Array.from({ length: this.opts.workers }, () => this.work());
  }

  /** Stops taking keys and waits for the reconciles in progress to finish. */
  async stop(): Promise<void> {
    this.opts.queue.shutDown();
    await this.opts.queue.drained();
    await Promise.all(this.loops);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.opts.queue.get();
      if (key === undefined) return;
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const { queue, metrics, log } = this.opts;
    const t0 = performance.now();
    log.debug("reconciling", { key });
    try {
      const result = await this.opts.reconcile(key);
      log.debug("reconciled", {
        key,
        ms: Math.round(performance.now() - t0),
        requeueAfterMs: result.requeueAfterMs,
      });
      queue.forget(key);
      if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      metrics.reconciles.inc({ result: "success" });
    } catch (err) {
      const retryMs = queue.addRateLimited(key);
      metrics.reconciles.inc({ result: "error" });
      const [namespace, job] = key.split("/");
      log.warn("reconcile failed; retrying", {
        namespace,
        job,
        err,
        retryMs,
        failures: queue.failuresOf(key),
      });
    } finally {
      metrics.reconcileSeconds.observe((performance.now() - t0) / 1000);
      queue.done(key);
    }
  }
}
