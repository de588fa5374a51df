import { test } from "node:test";
import assert from "node:assert/strict";
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Pod,
  V1Secret,
  V1Volume,
} from "@kubernetes/client-node";
import { API_VERSION, KIND, RESERVED_ENV_NAMES, toRunConfig, type SFPromptJob } from "@sfprompt/api";
import { desiredChildren, type DesiredInput } from "../../src/desired/children.js";
import { planClients } from "../../src/desired/restart-plan.js";
import { existingJobKey } from "../../src/desired/secret.js";
import { DEFAULT_CHILD_SETTINGS, RUN_CONFIG_KEY } from "../../src/desired/settings.js";
import { LABEL_JOB, fitName } from "../../src/names.js";
import type { Lifecycle } from "../../src/status/lifecycle.js";
import { job, refOf, type SpecInput } from "../fixtures.js";

const KEY = "a".repeat(64);
const running: Lifecycle = { suspended: false, expired: false };

function build(
  j: SFPromptJob,
  lifecycle: Lifecycle = running,
  over: Partial<DesiredInput> = {},
): KubernetesObject[] {
  const plans = planClients(j.spec.clients.count, [], DEFAULT_CHILD_SETTINGS.clientRestart, 0);
  return desiredChildren({
    job: j,
    ref: refOf(j),
    settings: DEFAULT_CHILD_SETTINGS,
    jobKey: KEY,
    lifecycle,
    plans,
    ...over,
  }).apply;
}

const ofKind = <T>(objs: KubernetesObject[], kind: string): T[] => objs.filter((o) => o.kind === kind) as T[];
const one = <T>(objs: KubernetesObject[], kind: string): T => {
  const all = ofKind<T>(objs, kind);
  assert.equal(all.length, 1, `one ${kind}`);
  return all[0]!;
};
const pods = (objs: KubernetesObject[]): V1Pod[] => ofKind<V1Pod>(objs, "Pod");

test("a minimal job gets a ConfigMap, Secret, Deployment, Service and one pod per client, all owned by the job", () => {
  const j = job("demo", { clients: { count: 3 } });
  const objs = build(j);
  assert.deepEqual(
    objs.map((o) => `${o.kind}/${o.metadata?.name}`),
    [
      "ConfigMap/demo-config",
      "Secret/demo-nats",
      "Deployment/demo-server",
      "Service/demo-server",
      "Pod/demo-client-0",
      "Pod/demo-client-1",
      "Pod/demo-client-2",
    ],
  );
  for (const o of objs) {
    assert.deepEqual(o.metadata?.ownerReferences, [
      {
        apiVersion: API_VERSION,
        kind: KIND,
        name: "demo",
        uid: "uid-demo",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(o.metadata?.namespace, "default");
    assert.equal(o.metadata?.labels?.[LABEL_JOB], "demo");
  }
});

test("the ConfigMap holds the job's run config exactly as toRunConfig derives it", () => {
  const j = job("demo", { training: { rounds: 7 } });
  const cm = one<V1ConfigMap>(build(j), "ConfigMap");
  assert.deepEqual(JSON.parse(cm.data![RUN_CONFIG_KEY]!), toRunConfig(j));
  assert.equal(JSON.parse(cm.data![RUN_CONFIG_KEY]!).training.rounds, 7);
});

test("the same job yields identical objects twice (no time, randomness or counters)", () => {
  const j = job("demo", { clients: { count: 2, spreadOnePerNode: true }, server: { gpus: 1 } });
  assert.deepEqual(build(j), build(j));
});

test("the Secret carries the given job key and the NATS URL, and the key reads back from it", () => {
  const secret = one<V1Secret>(build(job("demo")), "Secret");
  assert.equal(Buffer.from(secret.data!.url!, "base64").toString(), DEFAULT_CHILD_SETTINGS.natsUrl);
  assert.equal(existingJobKey(secret), KEY);
  assert.equal(existingJobKey({ data: { "job-key": Buffer.from("short").toString("base64") } }), undefined);
});

interface ServerCase {
  name: string;
  spec: SpecInput;
  requests: Record<string, string>;
  limits?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  runtimeClassName?: string;
}

const serverCases: ServerCase[] = [
  {
    name: "a CPU server gets the default requests and no GPU",
    spec: {},
    requests: { cpu: "500m", memory: "1Gi" },
  },
  {
    name: "a GPU server requests and limits nvidia.com/gpu on the selected nodes",
    spec: { server: { gpus: 2, nodeSelector: { "nvidia.com/gpu.present": "true" } } },
    requests: { cpu: "500m", memory: "1Gi", "nvidia.com/gpu": "2" },
    limits: { "nvidia.com/gpu": "2" },
    nodeSelector: { "nvidia.com/gpu.present": "true" },
  },
  {
    name: "a GPU server on k3s runs with the RuntimeClass it names",
    spec: { server: { gpus: 1, runtimeClassName: "nvidia" } },
    requests: { cpu: "500m", memory: "1Gi", "nvidia.com/gpu": "1" },
    limits: { "nvidia.com/gpu": "1" },
    runtimeClassName: "nvidia",
  },
  {
    name: "user resources replace the defaults, with integer quantities as strings",
    spec: {
      server: { gpus: 1, resources: { requests: { cpu: 4, memory: "16Gi" }, limits: { memory: "32Gi" } } },
    },
    requests: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "1" },
    limits: { memory: "32Gi", "nvidia.com/gpu": "1" },
  },
];

for (const c of serverCases) {
  test(`server: ${c.name}`, () => {
    const d = one<V1Deployment>(build(job("demo", c.spec)), "Deployment");
    const pod = d.spec!.template.spec!;
    const container = pod.containers[0]!;
    assert.deepEqual(container.resources?.requests, c.requests);
    assert.deepEqual(container.resources?.limits, c.limits);
    assert.deepEqual(pod.nodeSelector, c.nodeSelector);
    assert.equal(container.image, DEFAULT_CHILD_SETTINGS.serverImage);
    assert.equal(container.readinessProbe?.httpGet?.path, "/readyz");
    assert.equal(container.livenessProbe?.httpGet?.path, "/healthz");
    assert.equal(container.startupProbe?.httpGet?.path, "/healthz");
    assert.equal(pod.runtimeClassName, c.runtimeClassName);
    const env = new Map(container.env!.map((e) => [e.name, e.value]));
    assert.equal(
      env.get("SFPROMPT_LINGER_AFTER_FINISH"),
      "true",
      "a finished server waits to be scaled down",
    );
    assert.equal(d.spec!.replicas, 1);
    assert.deepEqual(d.spec!.selector.matchLabels, d.spec!.template.metadata!.labels);
  });
}

test("a job that asks for GPUs gets the GPU server image when the operator has one; clients never do", () => {
  const withGpuImage = { ...DEFAULT_CHILD_SETTINGS, gpuServerImage: "reg/server:1-cuda" };
  const image = (spec: Parameters<typeof job>[1], settings = withGpuImage): string[] => {
    const objs = build(job("demo", spec), running, { settings });
    const server = one<V1Deployment>(objs, "Deployment").spec!.template.spec!.containers[0]!.image!;
    return [server, ...pods(objs).map((p) => p.spec!.containers[0]!.image!)];
  };
  const gpu = { server: { gpus: 1 }, clients: { count: 2 } };
  const cpu = { server: { gpus: 0 }, clients: { count: 2 } };
  const { serverImage, clientImage } = DEFAULT_CHILD_SETTINGS;
  assert.deepEqual(image(gpu), ["reg/server:1-cuda", clientImage, clientImage]);
  assert.deepEqual(image(cpu), [serverImage, clientImage, clientImage]);
  assert.deepEqual(image(gpu, DEFAULT_CHILD_SETTINGS), [serverImage, clientImage, clientImage]);
});

test("client pods are pinned to edge nodes, carry the user's selector and tolerations, and their index in env", () => {
  const tolerations = [{ key: "edge", operator: "Exists" as const, effect: "NoSchedule" as const }];
  const j = job("demo", {
    clients: { count: 2, nodeSelector: { site: "plant-1" }, tolerations },
    data: { source: { builtin: "digits" } },
  });
  const [p0, p1] = pods(build(j));
  const spec = p1!.spec!;
  assert.deepEqual(spec.nodeSelector, { site: "plant-1" });
  assert.deepEqual(spec.tolerations, tolerations);
  assert.deepEqual(
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    [{ matchExpressions: [{ key: "node-role.kubernetes.io/edge", operator: "Exists" }] }],
  );
  assert.equal(spec.affinity?.podAntiAffinity, undefined);
  assert.equal(spec.restartPolicy, "Never");
  assert.equal(spec.automountServiceAccountToken, false);
  const env = Object.fromEntries(
    spec.containers[0]!.env!.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
  );
  assert.equal(env.SFPROMPT_CLIENT_INDEX, "1");
  assert.equal(env.SFPROMPT_DATA_SOURCE, "builtin:digits");
  assert.equal(env.SFPROMPT_JOB, "demo");
  assert.equal(env.NATS_URL, DEFAULT_CHILD_SETTINGS.natsUrl);
  assert.deepEqual(spec.containers[0]!.resources, {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { memory: "1Gi" },
  });
  assert.equal(p0!.metadata!.labels!["sfprompt.io/client-index"], "0");
});

test("spreadOnePerNode adds a required anti-affinity on the hostname among the job's clients", () => {
  const [p] = pods(build(job("demo", { clients: { count: 1, spreadOnePerNode: true } })));
  const terms = p!.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution!;
  assert.equal(terms[0]!.topologyKey, "kubernetes.io/hostname");
  assert.equal(terms[0]!.labelSelector!.matchLabels![LABEL_JOB], "demo");
});

test("an empty edge node label turns the default pinning off", () => {
  const j = job("demo", { clients: { count: 1 } });
  const plans = planClients(1, [], DEFAULT_CHILD_SETTINGS.clientRestart, 0);
  const settings = { ...DEFAULT_CHILD_SETTINGS, edgeNodeLabel: "" };
  const [p] = pods(
    desiredChildren({ job: j, ref: refOf(j), settings, jobKey: KEY, lifecycle: running, plans }).apply,
  );
  assert.equal(p!.spec!.affinity, undefined);
});

test("JSONL data on the node is mounted read-only at its own path", () => {
  const j = job("demo", {
    clients: { count: 1 },
    data: {
      source: { jsonl: { path: "/data/train.jsonl" } },
      evalSource: { jsonl: { path: "/data/test.jsonl" } },
    },
  });
  const [p] = pods(build(j));
  assert.deepEqual(p!.spec!.volumes!.find((v) => v.name === "data")?.hostPath, {
    path: "/data/train.jsonl",
    type: "File",
  });
  assert.deepEqual(
    p!.spec!.containers[0]!.volumeMounts!.find((m) => m.name === "data"),
    { name: "data", mountPath: "/data/train.jsonl", readOnly: true },
  );
});

test("a suspended job keeps its config and server object but scales to 0 and has no client pods", () => {
  const objs = build(job("demo", { clients: { count: 2 } }), { suspended: true, expired: false });
  assert.equal(pods(objs).length, 0);
  assert.equal(one<V1Deployment>(objs, "Deployment").spec!.replicas, 0);
});

test("a finished job creates no client pods and scales the server to 0", () => {
  const done: Lifecycle = {
    suspended: false,
    expired: false,
    terminal: { phase: "Succeeded", reason: "TrainingCompleted", message: "" },
  };
  const objs = build(job("demo", { clients: { count: 2 } }), done);
  assert.equal(pods(objs).length, 0);
  assert.equal(one<V1Deployment>(objs, "Deployment").spec!.replicas, 0);
});

test("long job names are cut to valid label values and Service names, deterministically", () => {
  const long = `j${"x".repeat(100)}`;
  const objs = build(job(long, { clients: { count: 1 } }));
  const svc = objs.find((o) => o.kind === "Service")!;
  assert.ok(svc.metadata!.name!.length <= 63);
  assert.equal(svc.metadata!.name, fitName(`${long}-server`, 63));
  for (const o of objs) assert.ok(o.metadata!.labels![LABEL_JOB]!.length <= 63);
});

interface ModelCase {
  name: string;
  source: NonNullable<NonNullable<SpecInput["model"]>["source"]>;
  volume?: V1Volume;
  modelPath?: string;
}

const modelCases: ModelCase[] = [
  { name: "the builtin demo model needs nothing mounted", source: { builtin: "demo" } },
  { name: "a path inside the image needs nothing mounted", source: { path: "/models/vit.onnx" } },
  {
    name: "a model on a PVC is mounted read-only, whole, and its file named in SFPROMPT_MODEL_PATH",
    source: { persistentVolumeClaim: { claimName: "models", path: "vit/model.onnx" } },
    volume: { name: "model", persistentVolumeClaim: { claimName: "models", readOnly: true } },
    modelPath: "/var/lib/sfprompt/model/vit/model.onnx",
  },
  {
    name: "a PVC path written with a leading slash stays inside the mount",
    source: { persistentVolumeClaim: { claimName: "models", path: "/vit.onnx" } },
    volume: { name: "model", persistentVolumeClaim: { claimName: "models", readOnly: true } },
    modelPath: "/var/lib/sfprompt/model/vit.onnx",
  },
  {
    name: "a model in a ConfigMap key is mounted as one file",
    source: { configMap: { name: "tiny-model", key: "tiny.onnx" } },
    volume: {
      name: "model",
      configMap: { name: "tiny-model", items: [{ key: "tiny.onnx", path: "model.onnx" }] },
    },
    modelPath: "/var/lib/sfprompt/model/model.onnx",
  },
];

for (const c of modelCases) {
  test(`model source: ${c.name}, in the server and every client pod`, () => {
    const objs = build(job("demo", { clients: { count: 2 }, model: { source: c.source } }));
    const specs = [
      one<V1Deployment>(objs, "Deployment").spec!.template.spec!,
      ...pods(objs).map((p) => p.spec!),
    ];
    assert.equal(specs.length, 3);
    for (const spec of specs) {
      const container = spec.containers[0]!;
      assert.deepEqual(
        spec.volumes!.find((v) => v.name === "model"),
        c.volume,
      );
      assert.deepEqual(
        container.volumeMounts!.find((m) => m.name === "model"),
        c.volume ? { name: "model", mountPath: "/var/lib/sfprompt/model", readOnly: true } : undefined,
      );
      assert.equal(container.env!.find((e) => e.name === "SFPROMPT_MODEL_PATH")?.value, c.modelPath);
    }
  });
}

test("client pods are ready on /readyz and alive on /healthz", () => {
  const [p] = pods(build(job("demo", { clients: { count: 1 } })));
  const c = p!.spec!.containers[0]!;
  assert.deepEqual(
    [c.readinessProbe?.httpGet?.path, c.livenessProbe?.httpGet?.path],
    ["/readyz", "/healthz"],
  );
});

test("the job's env reaches its pods after the operator's own, and the API reserves every name the operator sets", () => {
  const j = job("envs", {
    model: { source: { persistentVolumeClaim: { claimName: "models", path: "vit.onnx" } } },
    clients: { count: 2, env: [{ name: "SFPROMPT_PYPI_INDEX", value: "https://mirror.example/simple" }] },
    server: { env: [{ name: "OMP_NUM_THREADS", value: "4" }] },
  });
  const objs = build(j);
  const serverEnv = one<V1Deployment>(objs, "Deployment").spec!.template.spec!.containers[0]!.env!;
  const clientEnvs = pods(objs).map((p) => p.spec!.containers[0]!.env!);
  assert.deepEqual(serverEnv.at(-1), { name: "OMP_NUM_THREADS", value: "4" });
  for (const env of clientEnvs)
    assert.deepEqual(env.at(-1), { name: "SFPROMPT_PYPI_INDEX", value: "https://mirror.example/simple" });
  assert.ok(!serverEnv.some((e) => e.name === "SFPROMPT_PYPI_INDEX"), "the clients' env is theirs only");
  const operatorNames = new Set(
    [...serverEnv.slice(0, -1), ...clientEnvs.flatMap((e) => e.slice(0, -1))].map((e) => e.name),
  );
  assert.ok(
    operatorNames.has("SFPROMPT_MODEL_PATH") && operatorNames.has("NODE_NAME"),
    [...operatorNames].join(),
  );
  assert.deepEqual(
    [...operatorNames].filter((n) => !(RESERVED_ENV_NAMES as readonly string[]).includes(n)),
    [],
    "every variable the operator sets is one a job may not set",
  );
});

test("a variable from a Secret or ConfigMap key reaches the pods as valueFrom, with no value beside it", () => {
  const fromSecret = { secretKeyRef: { name: "proxy", key: "url" } };
  const fromConfigMap = { configMapKeyRef: { name: "net", key: "no_proxy", optional: true } };
  const j = job("env-from", {
    server: {
      env: [
        { name: "HTTPS_PROXY", valueFrom: fromSecret },
        { name: "LITERAL", value: "x" },
      ],
    },
    clients: { count: 1, env: [{ name: "NO_PROXY", valueFrom: fromConfigMap }] },
  });
  const objs = build(j);
  const serverEnv = one<V1Deployment>(objs, "Deployment").spec!.template.spec!.containers[0]!.env!;
  assert.deepEqual(serverEnv.slice(-2), [
    { name: "HTTPS_PROXY", valueFrom: fromSecret },
    { name: "LITERAL", value: "x" },
  ]);
  assert.deepEqual(pods(objs)[0]!.spec!.containers[0]!.env!.at(-1), {
    name: "NO_PROXY",
    valueFrom: fromConfigMap,
  });
});
