// The integration-test world: a real kube-apiserver (@sfprompt/kube-testing) with the generated CRD
// installed, a real nats-server, and the operator started in-process with short timings.
import { join } from "node:path";
import { after, before } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type SFPromptJobInput } from "@sfprompt/api";
import {
  applyObjects,
  kubectl,
  startControlPlane,
  waitFor,
  waitForCrd,
  type ControlPlane,
} from "@sfprompt/kube-testing";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { parseConfig, type OperatorConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startOperator, type RunningOperator } from "../../src/operator.js";

export const REPO_ROOT = join(import.meta.dirname, "..", "..", "..");
export const CRD_PATH = join(REPO_ROOT, "crds", "sfprompt.io_sfpromptjobs.yaml");

/**
 * Installs the generated CRD the way a user does (kubectl server-side apply). Not through the typed
 * client: its CRD model drops the schema's x-kubernetes-* keys (CEL rules, list types).
 */
export async function installCrd(cp: ControlPlane): Promise<void> {
  await kubectl(
    ["apply", "--server-side", "--field-manager=sfprompt-test", "-f", CRD_PATH],
    cp.kubeconfigPath,
  );
  // Polled, not `kubectl wait`: that fails at once when the CRD has no status.conditions yet.
  await waitForCrd(cp.kubeConfig, "sfpromptjobs.sfprompt.io", { openApi: false });
  // kubectl explain reads the published OpenAPI, which follows Established by a moment.
  await waitFor(
    async () =>
      (await kubectl(["explain", "sfpromptjob.spec"], cp.kubeconfigPath, { allowFailure: true })).code === 0,
    {
      timeoutMs: 20_000,
      intervalMs: 250,
      description: "the SFPromptJob schema to be published",
    },
  );
}

export interface World {
  cp: ControlPlane;
  nats: TestNats | undefined;
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
  stop(): Promise<void>;
}

/** `apiServerArgs`: extra kube-apiserver flags, such as an audit log's. */
export async function startWorld(opts: { nats?: boolean; apiServerArgs?: string[] } = {}): Promise<World> {
  const [cp, nats] = await Promise.all([
    startControlPlane(opts.apiServerArgs ? { apiServerArgs: opts.apiServerArgs } : {}),
    opts.nats ? startNatsServer() : Promise.resolve(undefined),
  ]);
  await installCrd(cp);
  return {
    cp,
    nats,
    core: cp.kubeConfig.makeApiClient(CoreV1Api),
    apps: cp.kubeConfig.makeApiClient(AppsV1Api),
    custom: cp.kubeConfig.makeApiClient(CustomObjectsApi),
    async stop() {
      await Promise.all([cp.stop(), nats?.stop()]);
    },
  };
}

/**
 * An operator config with test timings: no leader election unless asked, fast retries. A test that
 * enables leader election gets a lease far longer than anything it waits for: a 2 s lease's 1.4 s
 * renew deadline can lapse on a loaded machine, ending leadership mid-test (and letting a standby
 * take over); a stopping leader hands its lease back, so a takeover never waits it out.
 */
export function testConfig(world: World, over: (c: OperatorConfig) => void = () => {}): OperatorConfig {
  const c = parseConfig([], {});
  c.http = { host: "127.0.0.1", port: 0 };
  c.leaderElection = {
    ...c.leaderElection,
    enabled: false,
    namespace: "default",
    leaseDurationMs: 30_000,
    renewDeadlineMs: 20_000,
    retryPeriodMs: 250,
  };
  c.children.natsUrl = world.nats?.url ?? "nats://127.0.0.1:1";
  c.children.clientRestart = { limit: 2, baseMs: 1000, maxMs: 4000 };
  c.resyncMs = 5000;
  c.retryMs = 200;
  c.queue = { baseMs: 50, maxMs: 2000, qps: 50, burst: 100 };
  c.finalizer = { attemptTimeoutMs: 1000, giveUpAfterMs: 3000 };
  c.logLevel = process.env.SFPROMPT_TEST_LOG === "1" ? "debug" : "error";
  over(c);
  return c;
}

export function runOperator(world: World, config: OperatorConfig): Promise<RunningOperator> {
  return startOperator(config, {
    kubeConfig: world.cp.kubeConfig,
    log: createLogger({ level: config.logLevel }),
  });
}

export async function createJob(world: World, job: SFPromptJobInput): Promise<KubernetesObject> {
  const [applied] = await applyObjects(world.cp.kubeConfig, [job as KubernetesObject]);
  return applied!;
}

export interface JobObject extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    conditions?: {
      type: string;
      status: string;
      reason: string;
      message: string;
      lastTransitionTime: string;
    }[];
    [k: string]: unknown;
  };
}

export async function getJob(
  world: World,
  name: string,
  namespace = "default",
): Promise<JobObject | undefined> {
  try {
    return (await world.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace,
      name,
    })) as JobObject;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Waits until the job's status satisfies `ok`, and returns the job. */
export function waitForJob(
  world: World,
  name: string,
  ok: (j: JobObject) => boolean,
  description: string,
  timeoutMs = 30_000,
): Promise<JobObject> {
  return waitFor(
    async () => {
      const j = await getJob(world, name);
      return j && ok(j) ? j : undefined;
    },
    { timeoutMs, intervalMs: 100, description },
  );
}

export const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Patches the job's spec (as a user editing it). */
export async function patchJobSpec(world: World, name: string, spec: Record<string, unknown>): Promise<void> {
  await world.custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace: "default", name, body: { spec } },
    merge,
  );
}

/** Sets a pod's phase as a kubelet would (status subresource), optionally with its node and finish time. */
export async function setPodPhase(
  world: World,
  name: string,
  phase: string,
  opts: { node?: string; finishedAt?: Date } = {},
): Promise<void> {
  if (opts.node) {
    // The scheduler's binding: nodeName is set through the binding subresource, not by patching the spec.
    await world.core.createNamespacedPodBinding({
      name,
      namespace: "default",
      body: { metadata: { name }, target: { kind: "Node", name: opts.node } },
    });
  }
  const terminated = opts.finishedAt
    ? {
        containerStatuses: [
          {
            name: "client",
            image: "x",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: {
              terminated: { exitCode: 1, reason: "Error", finishedAt: opts.finishedAt.toISOString() },
            },
          },
        ],
      }
    : {};
  await world.core.patchNamespacedPodStatus(
    { name, namespace: "default", body: { status: { phase, ...terminated } } },
    merge,
  );
}

/** Marks the server Deployment available as its controller would. */
export async function setServerAvailable(world: World, name: string, replicas: number): Promise<void> {
  await world.apps.patchNamespacedDeploymentStatus(
    {
      name,
      namespace: "default",
      body: {
        status: { replicas, readyReplicas: replicas, availableReplicas: replicas, updatedReplicas: replicas },
      },
    },
    merge,
  );
}

export async function podNames(world: World, job: string): Promise<string[]> {
  const pods = await world.core.listNamespacedPod({
    namespace: "default",
    labelSelector: `sfprompt.io/job=${job}`,
  });
  return pods.items.map((p) => p.metadata!.name!).sort();
}

/**
 * A file's teardown: runs each step in turn, also after one failed, then throws the first failure
 * (all of them, in an AggregateError, when several failed). A failed step must not leave the operator
 * and the world behind it running: the API server's watches and the operator's loops would keep the
 * file's process from ending until the runner's per-file timeout (ADR 0009 amendment 10).
 */
export async function stopInOrder(...steps: (() => Promise<unknown> | undefined)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} teardown steps failed`);
}

/** A test file's world and its operator, filled in by its before hook. */
export interface WorldAndOperator {
  world: World;
  /** The running operator; a test that restarts it puts the new one here, for the after hook to stop. */
  operator: RunningOperator;
}

/**
 * Registers the file's hooks: before, start a world without NATS, run `prepare` on it (e.g. install
 * another CRD), then start the operator; after, stop the operator and the world.
 */
export function worldHooks(prepare: (world: World) => Promise<void> = async () => {}): WorldAndOperator {
  const w = {} as WorldAndOperator;
  before(async () => {
    w.world = await startWorld();
    await prepare(w.world);
    w.operator = await runOperator(w.world, testConfig(w.world));
  });
  after(async () => {
    await stopInOrder(
      () => w.operator?.stop(),
      () => w.world?.stop(),
    );
  });
  return w;
}

/** A test file's world with NATS, its operator and a NATS connection, filled in by its before hook. */
export interface OperatorWorld {
  world: World;
  operator: RunningOperator;
  nc: NatsConnection;
}

/**
 * Registers the file's hooks: before, start a world with NATS, run `prepare` on it (e.g. install
 * another CRD), then start the operator and a connection; after, stop them.
 */
export function operatorWorldHooks(prepare: (world: World) => Promise<void> = async () => {}): OperatorWorld {
  const w = {} as OperatorWorld;
  before(async () => {
    w.world = await startWorld({ nats: true });
    await prepare(w.world);
    w.operator = await runOperator(w.world, testConfig(w.world));
    w.nc = await connect({ servers: w.world.nats!.url });
  });
  after(async () => {
    await stopInOrder(
      async () => {
        // a test may have closed it (NATS stopped for good)
        if (w.nc && !w.nc.isClosed()) await w.nc.drain();
      },
      () => w.operator?.stop(),
      () => w.world?.stop(),
    );
  });
  return w;
}

/** The job's condition of `type`, if it has one. */
export function condition(
  j: Pick<JobObject, "status"> | undefined,
  type: string,
): NonNullable<NonNullable<JobObject["status"]>["conditions"]>[number] | undefined {
  return j?.status?.conditions?.find((c) => c.type === type);
}
