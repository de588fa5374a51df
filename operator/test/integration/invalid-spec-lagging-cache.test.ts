// A reconcile of a job whose spec does not read (reportInvalid), run on a job cache that has not seen
// the operator's last status write, builds on that write as a valid spec's reconcile does
// (WrittenStatus): no second status write with fresh times, and for a finished job held as
// OutcomeUnknown at the reconcile's time no second OutcomeUnknown Event (ADR 0023, amendment 30). The
// lagging cache is a real informer's, stopped once synced: its objects stay as listed, as a cache
// whose watch has not delivered the write yet; the reconciles run against a real kube-apiserver.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { API_VERSION, KIND } from "@sfprompt/api";
import { parseConfig } from "../../src/config.js";
import { createEventRecorder } from "../../src/kube/event-recorder.js";
import { Informers } from "../../src/kube/informers.js";
import { ObjectClient } from "../../src/kube/object-client.js";
import { createLogger } from "../../src/log.js";
import { OperatorMetrics } from "../../src/metrics.js";
import {
  ANNOTATION_FINISHED_SPEC,
  childNames,
  FIELD_MANAGER,
  FINALIZER,
  jobKey,
  LABEL_JOB,
  LABEL_MANAGED_BY,
} from "../../src/names.js";
import { NatsPool } from "../../src/progress/nats-pool.js";
import { ProgressTracker } from "../../src/progress/progress-tracker.js";
import type { ReconcileDeps } from "../../src/reconcile/deps.js";
import { reconcileJob } from "../../src/reconcile/reconcile-job.js";
import { UnreadableStatusLog } from "../../src/status/unreadable-status.js";
import { WrittenStatus } from "../../src/status/written-status.js";
import { jobManifest } from "../fixtures.js";
import { installOlderCrd } from "../older-crd-rules.js";
import { condition, createJob, getJob, startWorld, type World } from "./harness.js";

let world: World;
before(async () => {
  world = await startWorld();
  // without the quorum-vs-fraction rule, so that a spec zod refuses can be stored
  await installOlderCrd(world);
});
after(async () => {
  await world?.stop();
});

/**
 * The operator's reconcile dependencies on the world, with its informers listed once and then stopped
 * (their caches stay as listed: every later reconcile sees a cache that lags its own writes), and a
 * clock that moves on a second per reading, so that a status computed again differs in its times.
 */
async function laggingDeps(): Promise<{ deps: ReconcileDeps; stop: () => Promise<void> }> {
  const config = parseConfig([], {});
  const log = createLogger({ level: "error" });
  const informers = new Informers(
    world.cp.kubeConfig,
    { namespaces: ["default"], restartDelayMs: 200, log },
    () => {},
  );
  await informers.start();
  await informers.stop();
  const pool = new NatsPool(log, 1000);
  const progress = new ProgressTracker({ pool, log, retryMs: 200, onChange: () => {} });
  let tick = Date.parse("2026-11-29T12:00:00.000Z");
  const deps: ReconcileDeps = {
    informers,
    client: new ObjectClient(world.cp.kubeConfig),
    events: createEventRecorder(world.cp.kubeConfig, "sfprompt-operator", log),
    progress,
    pool,
    settings: { ...config.children, natsUrl: "nats://127.0.0.1:1" },
    finalizer: { attemptTimeoutMs: 1000, giveUpAfterMs: 3000 },
    log,
    metrics: new OperatorMetrics(),
    written: new WrittenStatus(),
    unreadable: new UnreadableStatusLog(log),
    now: () => new Date((tick += 1000)),
  };
  return {
    deps,
    async stop() {
      await progress.stop();
      await pool.drain();
    },
  };
}

test("a spec that does not read is written Failed once, though the next reconcile's cache lags that write", async () => {
  const manifest = jobManifest("lagging-invalid", {
    clients: { count: 1 },
    training: { quorum: { count: 3 } },
  });
  // with the operator's finalizer already on, so that the first reconcile goes on to the status
  await createJob(world, { ...manifest, metadata: { ...manifest.metadata, finalizers: [FINALIZER] } });
  const { deps, stop } = await laggingDeps();
  try {
    const key = jobKey("default", "lagging-invalid");
    await reconcileJob(deps, key);
    const first = await getJob(world, "lagging-invalid");
    assert.equal(condition(first, "Failed")?.reason, "InvalidSpec", "the first reconcile wrote InvalidSpec");
    assert.equal(deps.metrics.statusWrites.get(), 1);
    // the cache still holds the job without a status: a resync or a child's change before the watch
    // brings the write in
    assert.equal(
      (deps.informers.job("default", "lagging-invalid") as { status?: unknown }).status,
      undefined,
    );
    await reconcileJob(deps, key);
    const second = await getJob(world, "lagging-invalid");
    assert.equal(
      second?.metadata?.resourceVersion,
      first?.metadata?.resourceVersion,
      "the job not written again",
    );
    assert.equal(
      condition(second, "Failed")?.lastTransitionTime,
      condition(first, "Failed")?.lastTransitionTime,
    );
    assert.equal(deps.metrics.statusWrites.get(), 1, "one status write over both reconciles");
  } finally {
    await stop();
  }
});

test("a finished job held as OutcomeUnknown at the reconcile's time is held once, though the next reconcile's cache lags that write", async () => {
  const name = "lagging-held";
  const manifest = jobManifest(name, { clients: { count: 1 }, training: { quorum: { count: 3 } } });
  const job = await createJob(world, {
    ...manifest,
    metadata: { ...manifest.metadata, finalizers: [FINALIZER] },
  });
  // its ConfigMap says it finished (a spec record, here one that does not read) and records no outcome;
  // written by another manager, so no time of the operator's last write is there: held at the
  // reconcile's time (ADR 0023, amendments 21 and 23)
  await world.core.createNamespacedConfigMap({
    namespace: "default",
    body: {
      metadata: {
        name: childNames(name).configMap,
        labels: { [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_JOB]: name },
        annotations: { [ANNOTATION_FINISHED_SPEC]: "{not json" },
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: KIND,
            name,
            uid: job.metadata!.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      data: {},
    },
  });
  const { deps, stop } = await laggingDeps();
  try {
    const key = jobKey("default", name);
    await reconcileJob(deps, key);
    const first = await getJob(world, name);
    assert.equal(condition(first, "Failed")?.reason, "OutcomeUnknown", "the first reconcile held it");
    const held = await eventsOf(name, "OutcomeUnknown");
    assert.equal(held.length, 1, "one OutcomeUnknown event");
    await reconcileJob(deps, key);
    const second = await getJob(world, name);
    assert.equal(second?.metadata?.resourceVersion, first?.metadata?.resourceVersion, "not written again");
    assert.equal(second?.status?.completionTime, first?.status?.completionTime);
    assert.deepEqual(await eventsOf(name, "OutcomeUnknown"), held, "no second OutcomeUnknown event");
    assert.equal(deps.metrics.statusWrites.get(), 1, "one status write over both reconciles");
  } finally {
    await stop();
  }
});

/** The messages of the job's Events of `reason`. */
async function eventsOf(name: string, reason: string): Promise<string[]> {
  const list = await world.core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${name},reason=${reason}`,
  });
  return list.items.map((e) => e.message!).sort();
}
