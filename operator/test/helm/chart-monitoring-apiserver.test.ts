// The chart's ServiceMonitor and PodMonitor against a real kube-apiserver holding the Prometheus
// Operator's own CRDs (fetched from the Go module proxy, prometheus-crds.ts): helm's capability gate
// follows the cluster's API list, the API server accepts both monitors field for field, and their
// selectors, evaluated by the API server, pick the chart's metrics Service and the pods the operator's
// desired-state builders make, and nothing else.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, type KubernetesObject, type V1LabelSelector, type V1Pod } from "@kubernetes/client-node";
import { applyObjects, applyYaml, helm, parseManifests, startControlPlane, type ControlPlane } from "@sfprompt/kube-testing";
import { desiredClientPod } from "../../src/desired/client-pod.js";
import { desiredDeployment } from "../../src/desired/server.js";
import { job, refOf } from "../fixtures.js";
import { CHART, MONITORING_API, NAMESPACE, RELEASE, renderText } from "./chart.js";
import { prometheusOperatorCrds } from "./prometheus-crds.js";

interface MonitorSpec {
  namespaceSelector: { any?: boolean; matchNames?: string[] };
  selector: V1LabelSelector;
  endpoints?: { port: string }[];
  podMetricsEndpoints?: { port: string }[];
}
type Monitor = KubernetesObject & { spec: MonitorSpec };

let cp: ControlPlane;
const WATCHED = ["team-a", "team-b"];
const VALUES = {
  "metrics.serviceMonitor.enabled": true,
  "metrics.serviceMonitor.labels": { release: "kube-prometheus-stack" },
  "metrics.podMonitor.enabled": true,
  "metrics.podMonitor.namespace": "monitoring",
  "operator.watchNamespaces": WATCHED,
};

before(async () => {
  cp = await startControlPlane();
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const name of [NAMESPACE, "monitoring", ...WATCHED]) await core.createNamespace({ body: { metadata: { name } } });
});
after(async () => {
  await cp?.stop();
});

/** A label selector in the API's query syntax, so that the API server itself evaluates it. */
function selectorQuery(s: V1LabelSelector): string {
  const exprs = (s.matchExpressions ?? []).map((e) => {
    const values = `(${(e.values ?? []).join(",")})`;
    if (e.operator === "In") return `${e.key} in ${values}`;
    if (e.operator === "NotIn") return `${e.key} notin ${values}`;
    return e.operator === "Exists" ? e.key : `!${e.key}`;
  });
  return [...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`), ...exprs].join(",");
}

/** A pod as the ReplicaSet controller makes it from a Deployment's template. */
function podOfTemplate(d: ReturnType<typeof desiredDeployment>, name: string): V1Pod {
  const t = d.spec!.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: d.metadata!.namespace!, labels: t.metadata!.labels! }, spec: t.spec! };
}

/** The pods the operator's builders make for a job: its server's and its first client's. */
function jobPods(name: string, namespace: string): V1Pod[] {
  const j = job(name, {}, namespace);
  const common = { job: j, ref: refOf(j), imagePullPolicy: "IfNotPresent", natsUrl: "nats://nats:4222", configHash: "h" };
  const server = desiredDeployment({ ...common, image: "sfprompt/server:dev", replicas: 1 });
  const client = desiredClientPod({ ...common, image: "sfprompt/client:dev", index: 0, attempt: 0, edgeNodeLabel: "" });
  return [podOfTemplate(server, `${server.metadata!.name!}-5d8f9-abcde`), { apiVersion: "v1", kind: "Pod", ...client }];
}

describe("without the Prometheus Operator CRDs", () => {
  it("an install asking for a PodMonitor fails on the cluster's API list, naming the value and the CRDs", async () => {
    const r = await helm(
      ["install", RELEASE, CHART, "--namespace", NAMESPACE, "--dry-run=server", "--set", "metrics.podMonitor.enabled=true"],
      { kubeconfigPath: cp.kubeconfigPath, allowFailure: true },
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /metrics\.podMonitor\.enabled is true, but the cluster serves no monitoring\.coreos\.com\/v1 API/);
    assert.match(r.stderr, /Prometheus Operator CRDs/);
  });
});

describe("with the Prometheus Operator's own CRDs installed", () => {
  let monitors: Monitor[];
  let chartObjects: KubernetesObject[];
  before(async () => {
    for (const crd of await prometheusOperatorCrds()) await applyYaml(cp.kubeConfig, crd);
    chartObjects = parseManifests(await renderText(VALUES, RELEASE, MONITORING_API));
    monitors = chartObjects.filter((o) => o.apiVersion === "monitoring.coreos.com/v1") as Monitor[];
    assert.deepEqual(monitors.map((m) => m.kind).sort(), ["PodMonitor", "ServiceMonitor"]);
  });
  const monitor = (kind: string): Monitor => monitors.find((m) => m.kind === kind)!;

  it("an install asking for both monitors now passes helm's check against the cluster", async () => {
    const r = await helm(
      ["install", RELEASE, CHART, "--namespace", NAMESPACE, "--dry-run=server", "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true"],
      { kubeconfigPath: cp.kubeconfigPath, allowFailure: true },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kind: ServiceMonitor/);
    assert.match(r.stdout, /kind: PodMonitor/);
  });

  it("the API server accepts both monitors as rendered (server-side apply), pruning no field", async () => {
    const stored = (await applyObjects(cp.kubeConfig, monitors)) as Monitor[];
    for (const [i, m] of monitors.entries()) {
      assert.equal(stored[i]!.metadata!.namespace, m.metadata!.namespace);
      assert.deepEqual(stored[i]!.spec, m.spec, `${m.kind} as stored`);
    }
    assert.equal(monitor("PodMonitor").metadata!.namespace, "monitoring");
  });

  it("the CRDs' schema is enforced: a relabeling with an unknown action is refused", async () => {
    const bad = structuredClone(monitor("PodMonitor")) as Monitor & {
      spec: { podMetricsEndpoints: { relabelings: { action?: string }[] }[] };
    };
    bad.spec.podMetricsEndpoints[0]!.relabelings[0]!.action = "rewrite-everything";
    await assert.rejects(applyObjects(cp.kubeConfig, [bad]), /action/);
  });

  it("the ServiceMonitor's selector picks the chart's metrics Service, which has its port, and no other Service", async () => {
    await applyObjects(cp.kubeConfig, chartObjects.filter((o) => o.kind === "Service"));
    const sm = monitor("ServiceMonitor");
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const picked = [];
    for (const namespace of sm.spec.namespaceSelector.matchNames!) {
      const list = await core.listNamespacedService({ namespace, labelSelector: selectorQuery(sm.spec.selector) });
      picked.push(...list.items);
    }
    assert.deepEqual(picked.map((s) => s.metadata!.name), ["sfprompt-operator-metrics"]);
    const ports = picked[0]!.spec!.ports!.map((p) => p.name);
    for (const e of sm.spec.endpoints!) assert.ok(ports.includes(e.port), `port ${e.port} in ${ports.join(",")}`);
  });

  it("the PodMonitor's selector picks the job pods the operator's builders make in the watched namespaces, and not the operator's pod", async () => {
    const pods = [...jobPods("demo", "team-a"), ...jobPods("other", "team-b")];
    const operatorDeployment = chartObjects.find((o) => o.kind === "Deployment") as ReturnType<typeof desiredDeployment>;
    const operatorPod = podOfTemplate(operatorDeployment, "sfprompt-operator-6c9d7-xyz12");
    await applyObjects(cp.kubeConfig, [...pods, operatorPod]);
    const pm = monitor("PodMonitor");
    assert.deepEqual(pm.spec.namespaceSelector.matchNames, WATCHED);
    const core = cp.kubeConfig.makeApiClient(CoreV1Api);
    const select = async (namespace: string): Promise<V1Pod[]> =>
      (await core.listNamespacedPod({ namespace, labelSelector: selectorQuery(pm.spec.selector) })).items;
    const picked = (await Promise.all(WATCHED.map(select))).flat();
    const names = (ps: V1Pod[]): string[] => ps.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`).sort();
    assert.deepEqual(names(picked), names(pods));
    assert.deepEqual(await select(NAMESPACE), [], "the operator's own pod is not a job pod");
    for (const p of picked) {
      const ports = p.spec!.containers.flatMap((c) => (c.ports ?? []).map((x) => x.name));
      for (const e of pm.spec.podMetricsEndpoints!) assert.ok(ports.includes(e.port), `${p.metadata!.name} has port ${e.port}`);
    }
  });
});
