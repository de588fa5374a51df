import { test } from "node:test";
import { join } from "node:path";
import assert from "node:assert/strict";
import { toRunConfig, applyDefaults } from "@sfprompt/api";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import { jobManifest } from "../fixtures.js";
import {
  REPO_ROOT,
  createJob,
  getJob,
  podNames,
  runOperator,
  testConfig,
  waitForJob,
  worldHooks,
} from "./harness.js";

// Typed client objects are class instances; compare their data only.
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const w = worldHooks();

const gpuSpec = {
  clients: {
    count: 3,
    spreadOnePerNode: true,
    nodeSelector: { site: "plant-1" },
    tolerations: [{ key: "edge", operator: "Exists" as const, effect: "NoSchedule" as const }],
  },
  server: { gpus: 1, nodeSelector: { "nvidia.com/gpu.present": "true" } },
  training: { rounds: 4 },
};

test("a valid job gets its ConfigMap, Secret, server Deployment + Service and pinned client pods, owned by the job", async () => {
  const created = await createJob(w.world, jobManifest("gpu", gpuSpec));
  const uid = created.metadata!.uid!;
  const pods = await waitFor(
    async () => {
      const names = await podNames(w.world, "gpu");
      return names.length === 3 ? names : undefined;
    },
    { timeoutMs: 15_000, description: "3 client pods" },
  );
  assert.deepEqual(pods, ["gpu-client-0", "gpu-client-1", "gpu-client-2"]);

  const deployment = await w.world.apps.readNamespacedDeployment({
    name: "gpu-server",
    namespace: "default",
  });
  const server = deployment.spec!.template.spec!;
  assert.equal(server.containers[0]!.resources!.limits!["nvidia.com/gpu"], "1");
  assert.deepEqual(server.nodeSelector, { "nvidia.com/gpu.present": "true" });
  assert.equal(deployment.metadata!.ownerReferences![0]!.uid, uid);
  assert.equal(deployment.metadata!.ownerReferences![0]!.controller, true);

  const pod = await w.world.core.readNamespacedPod({ name: "gpu-client-2", namespace: "default" });
  assert.deepEqual(pod.spec!.nodeSelector, { site: "plant-1" });
  assert.equal(
    pod.spec!.tolerations!.some((t) => t.key === "edge" && t.effect === "NoSchedule"),
    true,
  );
  assert.equal(
    pod.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!
      .matchExpressions![0]!.key,
    "node-role.kubernetes.io/edge",
  );
  assert.equal(
    pod.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution![0]!.topologyKey,
    "kubernetes.io/hostname",
  );
  assert.equal(pod.spec!.containers[0]!.env!.find((e) => e.name === "SFPROMPT_CLIENT_INDEX")!.value, "2");
  assert.equal(pod.metadata!.ownerReferences![0]!.uid, uid);

  const cm = await w.world.core.readNamespacedConfigMap({ name: "gpu-config", namespace: "default" });
  const expected = toRunConfig(applyDefaults({ ...jobManifest("gpu", gpuSpec), metadata: created.metadata }));
  assert.deepEqual(JSON.parse(cm.data!["run-config.json"]!), expected);
  const secret = await w.world.core.readNamespacedSecret({ name: "gpu-nats", namespace: "default" });
  assert.match(Buffer.from(secret.data!["job-key"]!, "base64").toString(), /^[0-9a-f]{64}$/);
  const svc = await w.world.core.readNamespacedService({ name: "gpu-server", namespace: "default" });
  assert.equal(svc.metadata!.ownerReferences![0]!.uid, uid);

  const job = await waitForJob(
    w.world,
    "gpu",
    (j) => j.status?.phase === "Pending" && j.status.progress === "0/4",
    "status Pending 0/4",
  );
  assert.deepEqual(job.metadata!.finalizers, ["sfprompt.io/nats-cleanup"]);
  assert.equal(job.status!.conditions!.find((c) => c.type === "Created")?.status, "True");
});

const modelCases = [
  {
    name: "on a PVC",
    job: "model-pvc",
    source: { persistentVolumeClaim: { claimName: "models", path: "vit-b16/model.onnx" } },
    volume: { name: "model", persistentVolumeClaim: { claimName: "models", readOnly: true } },
    modelPath: "/var/lib/sfprompt/model/vit-b16/model.onnx",
  },
  {
    name: "in a ConfigMap",
    job: "model-cm",
    source: { configMap: { name: "tiny-model", key: "tiny.onnx" } },
    volume: {
      name: "model",
      configMap: { name: "tiny-model", items: [{ key: "tiny.onnx", path: "model.onnx" }] },
    },
    modelPath: "/var/lib/sfprompt/model/model.onnx",
  },
];

for (const c of modelCases) {
  test(`a model ${c.name} is mounted read-only into the server and every client pod, named by SFPROMPT_MODEL_PATH`, async () => {
    await createJob(
      w.world,
      jobManifest(c.job, {
        clients: { count: 2 },
        model: { source: c.source },
        server: { gpus: 1, runtimeClassName: "nvidia" },
      }),
    );
    const names = await waitFor(
      async () => {
        const n = await podNames(w.world, c.job);
        return n.length === 2 ? n : undefined;
      },
      { timeoutMs: 15_000, description: `2 client pods of ${c.job}` },
    );
    const deployment = await w.world.apps.readNamespacedDeployment({
      name: `${c.job}-server`,
      namespace: "default",
    });
    const server = deployment.spec!.template.spec!;
    assert.equal(server.runtimeClassName, "nvidia");
    const probes = server.containers[0]!;
    assert.deepEqual(
      [probes.readinessProbe?.httpGet?.path, probes.livenessProbe?.httpGet?.path],
      ["/readyz", "/healthz"],
    );
    const clients = await Promise.all(
      names.map(async (name) => (await w.world.core.readNamespacedPod({ name, namespace: "default" })).spec!),
    );
    for (const spec of [server, ...clients]) {
      // What the API server stored, defaults included (e.g. a ConfigMap volume's defaultMode).
      const volume = plain(spec.volumes!.find((v) => v.name === "model")) as Record<string, unknown>;
      const kind = Object.keys(c.volume).find((k) => k !== "name")!;
      assert.deepEqual(
        { name: volume.name, [kind]: { ...(volume[kind] as object), defaultMode: undefined } },
        {
          name: "model",
          [kind]: { ...(c.volume as unknown as Record<string, object>)[kind], defaultMode: undefined },
        },
      );
      const container = spec.containers[0]!;
      assert.deepEqual(plain(container.volumeMounts!.find((m) => m.name === "model")), {
        name: "model",
        mountPath: "/var/lib/sfprompt/model",
        readOnly: true,
      });
      assert.equal(container.env!.find((e) => e.name === "SFPROMPT_MODEL_PATH")?.value, c.modelPath);
    }
    assert.equal(clients[0]!.runtimeClassName, undefined, "client pods keep the node's default runtime");
  });
}

const nodeDataCases = [
  { name: "evaluates on", job: "own-data", everyRounds: 1, serverMounts: true },
  {
    name: "does not evaluate on (evaluation off)",
    job: "own-data-no-eval",
    everyRounds: 0,
    serverMounts: false,
  },
];

for (const c of nodeDataCases) {
  test(`folder and JSONL data on the nodes: each client pod mounts its data, the server the held-out set it ${c.name}`, async () => {
    await createJob(
      w.world,
      jobManifest(c.job, {
        clients: { count: 2 },
        data: {
          source: { jsonl: { path: "/data/sfprompt/train.jsonl" } },
          evalSource: { imageFolder: { path: "/data/sfprompt/held-out" } },
        },
        training: { evaluation: { everyRounds: c.everyRounds } },
      }),
    );
    const names = await waitFor(
      async () => {
        const n = await podNames(w.world, c.job);
        return n.length === 2 ? n : undefined;
      },
      { timeoutMs: 15_000, description: `2 client pods of ${c.job}` },
    );
    const deployment = await w.world.apps.readNamespacedDeployment({
      name: `${c.job}-server`,
      namespace: "default",
    });
    const server = deployment.spec!.template.spec!;
    const stored = (v: unknown): unknown => (v === undefined ? undefined : plain(v));
    const mounted = (spec: typeof server, name: string): { volume: unknown; mount: unknown } => ({
      volume: stored(spec.volumes!.find((v) => v.name === name)?.hostPath),
      mount: stored(spec.containers[0]!.volumeMounts!.find((m) => m.name === name)),
    });
    assert.deepEqual(
      mounted(server, "eval-data"),
      c.serverMounts
        ? {
            volume: { path: "/data/sfprompt/held-out", type: "Directory" },
            mount: { name: "eval-data", mountPath: "/data/sfprompt/held-out", readOnly: true },
          }
        : { volume: undefined, mount: undefined },
    );
    assert.equal(mounted(server, "data").volume, undefined, "the server reads no training data");
    for (const name of names) {
      const pod = (await w.world.core.readNamespacedPod({ name, namespace: "default" })).spec!;
      assert.deepEqual(mounted(pod, "data"), {
        volume: { path: "/data/sfprompt/train.jsonl", type: "File" },
        mount: { name: "data", mountPath: "/data/sfprompt/train.jsonl", readOnly: true },
      });
      assert.equal(mounted(pod, "eval-data").volume, undefined, "a client reads no held-out set");
    }
  });
}

test("a restarted operator creates no duplicates and leaves unchanged children's resourceVersions alone", async () => {
  await createJob(w.world, jobManifest("steady", { clients: { count: 2 } }));
  await waitForJob(w.world, "steady", (j) => j.status?.phase === "Pending", "steady to get a status");
  const snapshot = async (): Promise<Record<string, string>> => {
    const [cms, secrets, deps, svcs, pods] = await Promise.all([
      w.world.core.listNamespacedConfigMap({ namespace: "default", labelSelector: "sfprompt.io/job=steady" }),
      w.world.core.listNamespacedSecret({ namespace: "default", labelSelector: "sfprompt.io/job=steady" }),
      w.world.apps.listNamespacedDeployment({
        namespace: "default",
        labelSelector: "sfprompt.io/job=steady",
      }),
      w.world.core.listNamespacedService({ namespace: "default", labelSelector: "sfprompt.io/job=steady" }),
      w.world.core.listNamespacedPod({ namespace: "default", labelSelector: "sfprompt.io/job=steady" }),
    ]);
    const lists = { ConfigMap: cms, Secret: secrets, Deployment: deps, Service: svcs, Pod: pods };
    return Object.fromEntries(
      Object.entries(lists).flatMap(([kind, l]) =>
        l.items.map((o) => [`${kind}/${o.metadata!.name}`, o.metadata!.resourceVersion!]),
      ),
    );
  };
  const withJob = async (): Promise<Record<string, string>> => ({
    ...(await snapshot()),
    job: (await getJob(w.world, "steady"))!.metadata!.resourceVersion!,
  });
  // Start from a settled world: nothing changed for 700 ms.
  const before = await waitFor(
    async () => {
      const a = await withJob();
      await new Promise((r) => setTimeout(r, 700));
      return JSON.stringify(a) === JSON.stringify(await withJob()) ? a : undefined;
    },
    { timeoutMs: 10_000, description: "the job and its children to settle" },
  );
  await w.operator.stop();
  w.operator = await runOperator(w.world, testConfig(w.world));
  // Let the new operator list, reconcile every job and settle.
  await waitFor(() => w.operator.metrics.reconciles.get({ result: "success" }) >= 2, {
    timeoutMs: 10_000,
    description: "reconciles after restart",
  });
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await withJob(), before, "no child re-created or rewritten, and no status write");
  assert.equal(Object.keys(before).length, 7, "ConfigMap, Secret, Deployment, Service, 2 pods and the job");
});

test("the GPU + edge example, applied with kubectl, gets the pinning and resources it asks for", async () => {
  await kubectl(
    ["apply", "--server-side", "-f", join(REPO_ROOT, "examples", "gpu-edge.yaml")],
    w.world.cp.kubeconfigPath,
  );
  const names = await waitFor(
    async () => {
      const n = await podNames(w.world, "fashion-edge");
      return n.length === 8 ? n : undefined;
    },
    { timeoutMs: 15_000, description: "8 client pods of the example" },
  );
  assert.equal(names[0], "fashion-edge-client-0");
  const server = (
    await w.world.apps.readNamespacedDeployment({ name: "fashion-edge-server", namespace: "default" })
  ).spec!.template.spec!;
  assert.deepEqual(plain(server.containers[0]!.resources), {
    requests: { cpu: "2", memory: "4Gi", "nvidia.com/gpu": "1" },
    limits: { "nvidia.com/gpu": "1" },
  });
  assert.deepEqual(server.nodeSelector, { "nvidia.com/gpu.present": "true" });
  assert.equal(
    server.tolerations!.some((t) => t.key === "nvidia.com/gpu"),
    true,
  );
  const client = (
    await w.world.core.readNamespacedPod({ name: "fashion-edge-client-7", namespace: "default" })
  ).spec!;
  assert.deepEqual(client.nodeSelector, { site: "plant-1" });
  assert.deepEqual(plain(client.containers[0]!.resources), {
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { memory: "1Gi" },
  });
  assert.equal(
    client.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution![0]!.topologyKey,
    "kubernetes.io/hostname",
  );
  assert.equal(
    client.tolerations!.some((t) => t.key === "node-role.kubernetes.io/edge"),
    true,
  );
});
