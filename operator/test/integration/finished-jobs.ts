// Helpers shared by the finished-* integration tests: a finished job whose status, ConfigMap records
// or spec are changed behind the operator's back, as another writer, a restore or a user would.
import assert from "node:assert/strict";
import { GROUP, jobToken, PLURAL, StatusSchema, VERSION } from "@sfprompt/api";
import { ensureJobResources, publishEvent } from "@sfprompt/protocol";
import { childNames } from "../../src/names.js";
import { RUN_CONFIG_KEY } from "../../src/desired/settings.js";
import { jobManifest } from "../fixtures.js";
import {
  condition,
  createJob,
  merge,
  runOperator,
  testConfig,
  waitForJob,
  type JobObject,
  type OperatorWorld,
  type WorldAndOperator,
} from "./harness.js";
import { eventBase, roundFinished } from "./progress-events.js";

export { ANNOTATION_FINISHED_OUTCOME as OUTCOME, ANNOTATION_FINISHED_SPEC as SPEC } from "../../src/names.js";

/** Whether the job's stored status reads (the operator's StatusSchema). */
export const reads = (j: JobObject): boolean => StatusSchema.safeParse(j.status).success;

type ClientView = { phase?: string };
/** The job's first client's status entry. */
export const client0 = (j: JobObject): ClientView | undefined =>
  (j.status?.clients as ClientView[] | undefined)?.[0];

/** The job's ConfigMap's annotations and the run config it holds. */
export interface ConfigMapView {
  annotations: Record<string, string>;
  runConfig: string | undefined;
}

/**
 * The helpers, on the world and operator that `w` holds when they are called (filled in by a before
 * hook: worldHooks or operatorWorldHooks).
 */
export function finishedJobHelpers(w: WorldAndOperator) {
  /** Stops the operator, runs `change` while none runs, and starts a new one. */
  async function whileStopped(change: () => Promise<void>): Promise<void> {
    await w.operator.stop();
    await change();
    w.operator = await runOperator(w.world, testConfig(w.world));
  }

  /** Merge-patches the job's status subresource as another writer would (null removes it); the patched resourceVersion. */
  async function writeStatus(name: string, status: Record<string, unknown> | null): Promise<string> {
    const j = (await w.world.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURAL, namespace: "default", name, body: { status } },
      merge,
    )) as JobObject;
    return j.metadata!.resourceVersion!;
  }

  /**
   * The job once the operator wrote a status that reads after `version`, with a phase (`phase`, when
   * given).
   */
  function rewritten(name: string, version: string, what: string, phase?: string): Promise<JobObject> {
    return waitForJob(
      w.world,
      name,
      (j) =>
        reads(j) &&
        j.metadata!.resourceVersion !== version &&
        (phase === undefined ? j.status?.phase !== undefined : j.status?.phase === phase),
      `${name}'s status written again after ${what}`,
    );
  }

  /** A job failed by its deadline (the operator's own decision), its client pod gone. */
  async function failedByDeadline(name: string, spec: Record<string, unknown> = {}): Promise<JobObject> {
    await createJob(w.world, jobManifest(name, { clients: { count: 1 }, activeDeadlineSeconds: 1, ...spec }));
    const failed = await waitForJob(
      w.world,
      name,
      (j) => j.status?.phase === "Failed" && client0(j)?.phase === "Unknown",
      `${name} to pass its deadline, its client pod deleted`,
    );
    assert.equal(condition(failed, "Failed")?.reason, "DeadlineExceeded");
    return failed;
  }

  async function configMap(name: string): Promise<ConfigMapView> {
    const cm = await w.world.core.readNamespacedConfigMap({
      name: childNames(name).configMap,
      namespace: "default",
    });
    return { annotations: cm.metadata?.annotations ?? {}, runConfig: cm.data?.[RUN_CONFIG_KEY] };
  }

  /** Merge-patches the ConfigMap's annotations as `kubectl annotate` / `kubectl edit` would; null removes. */
  async function annotate(name: string, annotations: Record<string, string | null>): Promise<void> {
    await w.world.core.patchNamespacedConfigMap(
      { name: childNames(name).configMap, namespace: "default", body: { metadata: { annotations } } },
      merge,
    );
  }

  /** The job's Events of `reason`. */
  async function eventsOf(name: string, reason: string): Promise<{ type: string; message: string }[]> {
    const list = await w.world.core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${name},reason=${reason}`,
    });
    return list.items.map((e) => ({ type: e.type!, message: e.message! }));
  }

  /** The job's server Deployment's generation and replicas. */
  async function server(name: string): Promise<{ generation: number; replicas: number }> {
    const d = await w.world.apps.readNamespacedDeployment({
      name: childNames(name).deployment,
      namespace: "default",
    });
    return { generation: d.metadata!.generation!, replicas: d.spec!.replicas! };
  }

  return { whileStopped, writeStatus, rewritten, failedByDeadline, configMap, annotate, eventsOf, server };
}

/** A job of 4 rounds whose server reported rounds 1 and 2 on its stream and then failed (ModelNotFound). */
export async function failedAfterTwoRounds(w: OperatorWorld, name: string): Promise<JobObject> {
  await createJob(w.world, jobManifest(name, { clients: { count: 1 }, training: { rounds: 4 } }));
  await waitForJob(w.world, name, (j) => j.status?.phase === "Pending", `${name} Pending`);
  const token = jobToken("default", name);
  await ensureJobResources(w.nc, token);
  await publishEvent(w.nc, roundFinished(token, 1));
  await publishEvent(w.nc, roundFinished(token, 2));
  await publishEvent(w.nc, {
    ...eventBase(token),
    type: "job.failed",
    reason: "ModelNotFound",
    message: "no model",
  });
  const failed = await waitForJob(
    w.world,
    name,
    (j) => j.status?.phase === "Failed" && j.status?.round === 2,
    `${name} Failed after round 2`,
  );
  assert.equal(failed.status?.progress, "2/4");
  return failed;
}
