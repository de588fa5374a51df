// What a reconcile needs from the outside world, gathered in one object so each step takes one argument.
import type { ChildSettings } from "../desired/settings.js";
import type { EventRecorder } from "../kube/event-recorder.js";
import type { Informers } from "../kube/informers.js";
import type { ObjectClient } from "../kube/object-client.js";
import type { Logger } from "../log.js";
import type { OperatorMetrics } from "../metrics.js";
import type { NatsPool } from "../progress/nats-pool.js";
import type { ProgressTracker } from "../progress/progress-tracker.js";
import type { UnreadableStatusLog } from "../status/unreadable-status.js";
import type { WrittenStatus } from "../status/written-status.js";

export interface FinalizerSettings {
  /** How long one cleanup attempt may take. */
  attemptTimeoutMs: number;
  /** After this long since the deletion request, the finalizer is removed even if NATS never answered. */
  giveUpAfterMs: number;
}

export interface ReconcileDeps {
  informers: Informers;
  client: ObjectClient;
  events: EventRecorder;
  progress: ProgressTracker;
  pool: NatsPool;
  settings: ChildSettings;
  finalizer: FinalizerSettings;
  log: Logger;
  metrics: OperatorMetrics;
  /** The last status written per job, to see through a lagging cache. */
  written: WrittenStatus;
  /** Logs a stored status that does not read as the API's, once per job and resourceVersion. */
  unreadable: UnreadableStatusLog;
  now: () => Date;
}

/** What the work queue does with the key after a successful reconcile. */
export interface ReconcileResult {
  /** Reconcile again after this long (a known wait: deadline, TTL, restart backoff). */
  requeueAfterMs?: number;
}
