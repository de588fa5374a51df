// Why a job's pods do not run, in its conditions: the operator (real kube-apiserver + etcd) reads the
// server Deployment's pods and the client pods, whose status a kubelet would write and this test writes
// by hand, and ServerReady / ClientsReady name the waiting reason, the scheduler's message, a restart
// loop's last exit and the data path a pod stuck in ContainerCreating mounts from its node. The resync
// is long: a server pod's change itself must bring the job's status up to date.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import type { SpecInput } from "@sfprompt/api";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import yaml from "js-yaml";
import type { RunningOperator } from "../../src/operator.js";
import { childNames } from "../../src/names.js";
import { jobManifest } from "../fixtures.js";
import {
  condition,
  createJob,
  getJob,
  merge,
  podNames,
  REPO_ROOT,
  runOperator,
  startWorld,
  testConfig,
  waitForJob,
  type World,
} from "./harness.js";

let world: World;
let operator: RunningOperator;
before(async () => {
  world = await startWorld();
  operator = await runOperator(
    world,
    testConfig(world, (c) => {
      c.resyncMs = 600_000;
    }),
  );
});
after(async () => {
  await operator?.stop();
  await world?.stop();
});

/** The edge JSONL example's spec with two clients: the server mounts its held-out set from its node. */
function edgeSpec(): SpecInput {
  const doc = yaml.load(readFileSync(join(REPO_ROOT, "examples", "edge-text-jsonl.yaml"), "utf8")) as {
    spec: SpecInput;
  };
  return { ...doc.spec, clients: { ...doc.spec.clients, count: 2 } };
}

/** `kubectl get sfpj NAME` (with `-o wide`, its priority-1 columns too): the header and the job's row. */
async function kubectlGet(name: string, wide: boolean): Promise<{ header: string; row: string }> {
  const args = ["get", "sfpromptjobs", name, ...(wide ? ["-o", "wide"] : [])];
  const [header = "", row = ""] = (await kubectl(args, world.cp.kubeconfigPath)).stdout.split("\n");
  return { header, row };
}

/** The MESSAGE column of `kubectl get -o wide` (between its header and AGE's). */
async function messageColumn(name: string): Promise<string> {
  const { header, row } = await kubectlGet(name, true);
  const from = header.indexOf("MESSAGE");
  assert.ok(from > 0, `no MESSAGE column in: ${header}`);
  return row.slice(from, header.lastIndexOf("AGE")).trim();
}

/** A pod of the job's server Deployment, as its ReplicaSet would create it from the template. */
async function createServerPod(job: string, pod: string): Promise<void> {
  const d = await world.apps.readNamespacedDeployment({
    name: childNames(job).deployment,
    namespace: "default",
  });
  const template = d.spec!.template;
  const body: V1Pod = {
    metadata: {
      ...template.metadata,
      name: pod,
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${d.metadata!.name}-6f7d9`,
          uid: "0b7e2b34-6f0a-4c1e-9d47-0c3c7f1a2b3c",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...template.spec!, nodeName: "gateway-1" },
  };
  await world.core.createNamespacedPod({ namespace: "default", body });
}

/** Reconciles the operator has finished so far, from its /metrics. */
async function reconciles(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator.httpPort}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("sfprompt_operator_reconcile_total"))
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

async function setPodStatus(name: string, status: V1Pod["status"]): Promise<void> {
  await world.core.patchNamespacedPodStatus({ name, namespace: "default", body: { status } }, merge);
}

const waiting = (name: string, reason: string, message?: string): V1Pod["status"] => ({
  phase: "Pending",
  containerStatuses: [
    {
      name,
      image: "sfprompt/x:1",
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { waiting: { reason, ...(message !== undefined ? { message } : {}) } },
    },
  ],
});

/** A Deployment's pod restarting its container in place: phase Running, waiting in CrashLoopBackOff. */
const crashLoop = (pod: string, backoff: string): V1Pod["status"] => ({
  phase: "Running",
  containerStatuses: [
    {
      name: "server",
      image: "registry.local/sfprompt-server:9.9",
      imageID: "",
      ready: false,
      restartCount: 4,
      state: {
        waiting: {
          reason: "CrashLoopBackOff",
          message: `back-off ${backoff} restarting failed container=server pod=${pod}_default(uid)`,
        },
      },
      lastState: {
        terminated: { exitCode: 1, reason: "Error", message: "spec.data.evalSource: cannot load: EACCES" },
      },
    },
  ],
});

test("ServerReady names what keeps the server pod from running: the data path it mounts in ContainerCreating, an image that does not pull, a restart loop's last exit", async () => {
  const name = "stuck-server";
  await createJob(world, jobManifest(name, edgeSpec()));
  await waitForJob(world, name, (j) => condition(j, "ServerReady") !== undefined, "ServerReady set");
  const pod = `${childNames(name).deployment}-6f7d9-x8k2p`;
  await createServerPod(name, pod);
  await setPodStatus(pod, waiting("server", "ContainerCreating"));
  const creating = await waitForJob(
    world,
    name,
    (j) => condition(j, "ServerReady")?.message?.includes("ContainerCreating") === true,
    "ServerReady names ContainerCreating",
  );
  const c = condition(creating, "ServerReady")!;
  assert.equal(c.status, "False");
  assert.equal(c.reason, "ServerNotAvailable");
  assert.equal(
    c.message,
    `no server replica is available yet: server pod ${pod}: ContainerCreating: it mounts spec.data.evalSource ` +
      `/srv/sfprompt/held-out.jsonl (File) from node gateway-1; if that path is not there it stays in ` +
      `ContainerCreating (a FailedMount event: kubectl describe pod ${pod})`,
  );

  const pull = 'Back-off pulling image "registry.local/sfprompt-server:9.9"';
  await setPodStatus(pod, waiting("server", "ImagePullBackOff", pull));
  const backoff = await waitForJob(
    world,
    name,
    (j) => condition(j, "ServerReady")?.message?.includes("ImagePullBackOff") === true,
    "ServerReady names ImagePullBackOff",
  );
  assert.equal(
    condition(backoff, "ServerReady")!.message,
    `no server replica is available yet: server pod ${pod}: ImagePullBackOff: ${pull}`,
  );
  // kubectl get -o wide says it too (status.message), plain kubectl get keeps its columns
  const why = `ServerNotAvailable: no server replica is available yet: server pod ${pod}: ImagePullBackOff: ${pull}`;
  assert.equal(backoff.status?.message, why);
  assert.equal(await messageColumn(name), why);
  assert.ok(!(await kubectlGet(name, false)).header.includes("MESSAGE"));

  // a Deployment's pod restarts its container in place: phase Running, waiting in CrashLoopBackOff
  await setPodStatus(pod, crashLoop(pod, "1m20s"));
  const loop = await waitForJob(
    world,
    name,
    (j) => condition(j, "ServerReady")?.message?.includes("CrashLoopBackOff") === true,
    "ServerReady names CrashLoopBackOff",
  );
  assert.equal(
    condition(loop, "ServerReady")!.message,
    `no server replica is available yet: server pod ${pod}: the container exited and is restarted in place ` +
      "(CrashLoopBackOff between tries; kubectl logs --previous shows the run before); " +
      "last exit: Error (exit code 1): spec.data.evalSource: cannot load: EACCES",
  );

  // the kubelet doubles the back-off delay at each restart: the job's status is not rewritten for it
  const version = loop.metadata?.resourceVersion;
  const before = await reconciles();
  await setPodStatus(pod, crashLoop(pod, "2m40s"));
  await waitFor(async () => (await reconciles()) > before, {
    timeoutMs: 10_000,
    description: "a reconcile after the back-off changed",
  });
  assert.equal((await getJob(world, name))?.metadata?.resourceVersion, version);
});

/** Status patches the operator has written so far, from its /metrics. */
async function statusWrites(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator.httpPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("sfprompt_operator_status_patches_total"));
  return Number(line?.split(" ").at(-1) ?? 0);
}

/** Sets the pod's status and waits for a reconcile after it, and for the write it may bring. */
async function setAndReconcile(pod: string, status: V1Pod["status"]): Promise<void> {
  const before = await reconciles();
  await setPodStatus(pod, status);
  await waitFor(async () => (await reconciles()) > before, {
    timeoutMs: 10_000,
    description: "a reconcile after the pod's status changed",
  });
  // a status write queues the job once more: let that reconcile pass too
  await new Promise((r) => setTimeout(r, 300));
}

/**
 * One try of a container the kubelet restarts in place: Running (not ready), Error, CrashLoopBackOff;
 * its times `s` seconds after `base` (a loop's tries are recent: a run of 10 minutes is no loop).
 */
function restartTry(n: number, pod: string, base: number): V1Pod["status"][] {
  const exit = {
    exitCode: 1,
    reason: "Error",
    message: "NATS at nats://nats:4222 refused the job's credentials",
  };
  const at = (s: number): Date => new Date(base + s * 1000);
  const container = {
    name: "server",
    image: "registry.local/sfprompt-server:9.9",
    imageID: "",
    ready: false,
  };
  const last = n > 0 ? { lastState: { terminated: { ...exit, finishedAt: at(10 * n - 5) } } } : {};
  return [
    {
      phase: "Running",
      containerStatuses: [
        { ...container, restartCount: n, state: { running: { startedAt: at(10 * n) } }, ...last },
      ],
    },
    {
      phase: "Running",
      containerStatuses: [
        {
          ...container,
          restartCount: n,
          state: { terminated: { ...exit, startedAt: at(10 * n), finishedAt: at(10 * n + 5) } },
          ...last,
        },
      ],
    },
    {
      phase: "Running",
      containerStatuses: [
        {
          ...container,
          restartCount: n + 1,
          state: {
            waiting: {
              reason: "CrashLoopBackOff",
              message: `back-off ${10 * 2 ** n}s restarting failed container=server pod=${pod}_default(uid)`,
            },
          },
          lastState: { terminated: { ...exit, finishedAt: at(10 * n + 5) } },
        },
      ],
    },
  ];
}

test("a server pod in a restart loop rewrites the job's status at its first exit, not at every try: Running, Error and CrashLoopBackOff in turn read the same last exit", async () => {
  const name = "restart-loop";
  await createJob(world, jobManifest(name, edgeSpec()));
  await waitForJob(world, name, (j) => condition(j, "ServerReady") !== undefined, "ServerReady set");
  const pod = `${childNames(name).deployment}-6f7d9-r4n2q`;
  await createServerPod(name, pod);
  const base = Date.now() - 60_000;
  const tries = [0, 1, 2, 3].map((n) => restartTry(n, pod, base));
  const start = await statusWrites();
  for (const status of tries[0]!) await setAndReconcile(pod, status);
  const firstTry = (await statusWrites()) - start;
  const settled = await getJob(world, name);
  const expected =
    `no server replica is available yet: server pod ${pod}: the container exited and is restarted in place ` +
    "(CrashLoopBackOff between tries; kubectl logs --previous shows the run before); last exit: Error (exit code 1): " +
    "NATS at nats://nats:4222 refused the job's credentials";
  assert.equal(condition(settled!, "ServerReady")?.message, expected);
  // the pod's creation, its first start (runs, not ready) and its first exit: at most one write each
  assert.ok(firstTry <= 3, `${firstTry} status writes in the first try`);

  // three more tries, each Running, Error and CrashLoopBackOff with a longer back-off: nothing new to say
  const before = await statusWrites();
  for (const status of tries.slice(1).flat()) await setAndReconcile(pod, status);
  assert.equal((await statusWrites()) - before, 0, "status writes over three more tries of the loop");
  const after = await getJob(world, name);
  assert.equal(after?.metadata?.resourceVersion, settled?.metadata?.resourceVersion);
  assert.equal(condition(after!, "ServerReady")?.message, expected);
});

/** A server container restarted in place `restarts` times, running since `startedAt`, not ready. */
const runningAfterRestart = (restarts: number, startedAt: Date): V1Pod["status"] => ({
  phase: "Running",
  containerStatuses: [
    {
      name: "server",
      image: "registry.local/sfprompt-server:9.9",
      imageID: "",
      ready: false,
      restartCount: restarts,
      state: { running: { startedAt } },
      lastState: {
        terminated: {
          exitCode: 1,
          reason: "Error",
          message: "NATS at nats://nats:4222 refused the job's credentials",
          finishedAt: new Date(startedAt.getTime() - 5000),
        },
      },
    },
  ],
});

test("a server container that restarted long ago and runs, not ready, is not read as a restart loop; one that restarted just before is, until it has run 10 minutes", async () => {
  const name = "old-restart";
  await createJob(world, jobManifest(name, edgeSpec()));
  await waitForJob(world, name, (j) => condition(j, "ServerReady") !== undefined, "ServerReady set");
  const pod = `${childNames(name).deployment}-6f7d9-o1d4x`;
  await createServerPod(name, pod);
  const notReady = `no server replica is available yet: server pod ${pod} runs but is not ready yet (kubectl logs ${pod})`;
  const loop =
    `no server replica is available yet: server pod ${pod}: the container exited and is restarted in place ` +
    "(CrashLoopBackOff between tries; kubectl logs --previous shows the run before); last exit: Error (exit code 1): " +
    "NATS at nats://nats:4222 refused the job's credentials";
  const serverReady = (text: string, what: string, timeoutMs?: number): Promise<unknown> =>
    waitForJob(world, name, (j) => condition(j, "ServerReady")?.message === text, what, timeoutMs);

  // restarted once, three hours ago, and running since: the kubelet's back-off was reset long ago
  await setPodStatus(pod, runningAfterRestart(1, new Date(Date.now() - 3 * 3600_000)));
  await serverReady(notReady, "ServerReady: runs but is not ready (an old restart is no loop)");

  // restarted again, 20 s short of the 10 minutes: a loop's text, until that run reaches 10 minutes;
  // nothing else changes then (the resync is 10 minutes): the operator comes back for it
  const startedAt = new Date(Date.now() - 10 * 60_000 + 20_000);
  await setPodStatus(pod, runningAfterRestart(2, startedAt));
  await serverReady(loop, "ServerReady: a restart loop's last exit");
  await serverReady(notReady, "ServerReady: runs but is not ready, once the run reached 10 minutes", 60_000);
  // the API server keeps the start in whole seconds
  const stored = Math.floor(startedAt.getTime() / 1000) * 1000;
  assert.ok(Date.now() >= stored + 10 * 60_000, "not before the 10 minutes");
});

test("ClientsReady names each waiting client's reason: the scheduler's message and a missing Secret", async () => {
  const name = "stuck-clients";
  await createJob(world, jobManifest(name, edgeSpec()));
  await waitFor(async () => (await podNames(world, name)).length === 2, {
    timeoutMs: 10_000,
    description: "2 client pods",
  });
  const unschedulable =
    "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
  await setPodStatus(`${name}-client-0`, {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: unschedulable }],
  });
  const config = 'secret "hf-token" not found';
  await setPodStatus(`${name}-client-1`, waiting("client", "CreateContainerConfigError", config));
  const stuck = await waitForJob(
    world,
    name,
    (j) => condition(j, "ClientsReady")?.message?.includes("CreateContainerConfigError") === true,
    "ClientsReady names both reasons",
  );
  const c = condition(stuck, "ClientsReady")!;
  assert.equal(c.status, "False");
  assert.equal(
    c.message,
    `0 of 2 client pods running; not running: 0, 1; why: client 0: Unschedulable: ${unschedulable}; ` +
      `client 1: CreateContainerConfigError: ${config}`,
  );

  // same pods, same text: the reconcile a pod's label change brings writes nothing
  const version = stuck.metadata?.resourceVersion;
  const before = await reconciles();
  await world.core.patchNamespacedPod(
    { name: `${name}-client-0`, namespace: "default", body: { metadata: { labels: { touched: "1" } } } },
    merge,
  );
  await waitFor(async () => (await reconciles()) > before, {
    timeoutMs: 10_000,
    description: "a reconcile after the label change",
  });
  assert.equal((await getJob(world, name))?.metadata?.resourceVersion, version);
});
