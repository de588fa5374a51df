// The chart's Prometheus Operator objects without a cluster: off by default, a ServiceMonitor for the
// operator's metrics Service and a PodMonitor for the jobs' pods when asked, and a failed render,
// naming the value to turn off, where the cluster has no monitoring.coreos.com/v1 API.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MONITORING_API, NAMESPACE, find, render, renderRaw, type K8sObject } from "./chart.js";

interface Endpoint {
  port: string;
  path: string;
  interval?: string;
  scrapeTimeout?: string;
  honorLabels?: boolean;
  relabelings?: { sourceLabels: string[]; targetLabel: string; regex?: string }[];
}
interface Monitor {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    namespaceSelector: { any?: boolean; matchNames?: string[] };
    selector: { matchLabels: Record<string, string>; matchExpressions?: unknown[] };
    endpoints?: Endpoint[];
    podMetricsEndpoints?: Endpoint[];
  };
}

const SM = "metrics.serviceMonitor.enabled";
const PM = "metrics.podMonitor.enabled";
const isMonitor = (o: K8sObject): boolean => o.apiVersion.startsWith("monitoring.coreos.com/");
const monitor = (objects: K8sObject[], kind: string): Monitor => find(objects, kind) as unknown as Monitor;

describe("Prometheus Operator objects: when they are rendered", () => {
  it("none by default, even where the monitoring.coreos.com/v1 API exists", async () => {
    assert.deepEqual((await render({}, undefined, MONITORING_API)).filter(isMonitor), []);
  });
  it("the defaults render without the API (no monitor asked for, nothing to check)", async () => {
    assert.deepEqual((await render()).filter(isMonitor), []);
  });
  const missing: { name: string; values: Record<string, unknown>; says: RegExp }[] = [
    { name: "a ServiceMonitor", values: { [SM]: true }, says: /metrics\.serviceMonitor\.enabled is true.*set metrics\.serviceMonitor\.enabled=false\./ },
    { name: "a PodMonitor", values: { [PM]: true }, says: /metrics\.podMonitor\.enabled is true.*set metrics\.podMonitor\.enabled=false\./ },
    {
      name: "both monitors",
      values: { [SM]: true, [PM]: true },
      says: /metrics\.serviceMonitor\.enabled and metrics\.podMonitor\.enabled are true.*set metrics\.serviceMonitor\.enabled=false and metrics\.podMonitor\.enabled=false\./,
    },
  ];
  for (const m of missing) {
    it(`asking for ${m.name} without the API fails, naming the value and the CRDs it needs`, async () => {
      const r = await renderRaw(m.values);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, m.says);
      assert.match(r.stderr, /no monitoring\.coreos\.com\/v1 API: ServiceMonitor and PodMonitor need the Prometheus Operator CRDs/);
    });
  }
  it("refuses an interval that is no Prometheus duration, naming the value", async () => {
    const r = await renderRaw({ [PM]: true, "metrics.podMonitor.interval": "30" }, undefined, MONITORING_API);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\/metrics\/podMonitor\/interval/);
  });
});

describe("the ServiceMonitor", () => {
  it("scrapes /metrics on the metrics Service's http port in the release namespace, keeping the series' own namespace", async () => {
    const objects = await render({ [SM]: true }, undefined, MONITORING_API);
    const sm = monitor(objects, "ServiceMonitor");
    assert.equal(sm.metadata.namespace, NAMESPACE);
    assert.deepEqual(sm.spec.namespaceSelector, { matchNames: [NAMESPACE] });
    assert.deepEqual(sm.spec.endpoints, [
      { port: "http", path: "/metrics", honorLabels: true, interval: "30s", scrapeTimeout: "10s" },
    ]);
    assert.ok(!objects.some((o) => o.kind === "PodMonitor"));
    const service = find(objects, "Service", "sfprompt-operator-metrics") as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { ports: { name: string }[] };
    };
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], v, k);
    assert.deepEqual(service.spec.ports.map((p) => p.name), ["http"]);
  });
  it("carries the extra labels, lives in the namespace asked for, and leaves out an empty interval", async () => {
    const sm = monitor(
      await render(
        {
          [SM]: true,
          "metrics.serviceMonitor.labels": { release: "kube-prometheus-stack" },
          "metrics.serviceMonitor.namespace": "monitoring",
          "metrics.serviceMonitor.interval": "",
        },
        undefined,
        MONITORING_API,
      ),
      "ServiceMonitor",
    );
    assert.equal(sm.metadata.labels.release, "kube-prometheus-stack");
    assert.equal(sm.metadata.namespace, "monitoring");
    // it still selects the Service where the chart puts it
    assert.deepEqual(sm.spec.namespaceSelector, { matchNames: [NAMESPACE] });
    assert.deepEqual(sm.spec.endpoints, [{ port: "http", path: "/metrics", honorLabels: true, scrapeTimeout: "10s" }]);
  });
});

describe("the PodMonitor", () => {
  it("scrapes the job pods' health port in every namespace when the operator watches all", async () => {
    const objects = await render({ [PM]: true }, undefined, MONITORING_API);
    const pm = monitor(objects, "PodMonitor");
    assert.ok(!objects.some((o) => o.kind === "ServiceMonitor"));
    assert.equal(pm.metadata.namespace, NAMESPACE);
    assert.deepEqual(pm.spec.namespaceSelector, { any: true });
    const [endpoint, ...more] = pm.spec.podMetricsEndpoints!;
    assert.deepEqual(more, []);
    assert.deepEqual([endpoint!.port, endpoint!.path, endpoint!.interval], ["health", "/metrics", "30s"]);
    // the processes' own namespace and sfprompt_job (on sfprompt_process_info) stay as they are
    assert.equal(endpoint!.honorLabels, true);
  });
  it("gives every series the job's full name, the component and the client index from the pod", async () => {
    const pm = monitor(await render({ [PM]: true }, undefined, MONITORING_API), "PodMonitor");
    const relabel = pm.spec.podMetricsEndpoints![0]!.relabelings!.map((r) => [r.targetLabel, r.sourceLabels, r.regex]);
    assert.deepEqual(relabel, [
      // the label first, for pods of operators before the annotation; the annotation, when set, wins
      ["sfprompt_job", ["__meta_kubernetes_pod_label_sfprompt_io_job"], undefined],
      ["sfprompt_job", ["__meta_kubernetes_pod_annotation_sfprompt_io_job_name"], "(.+)"],
      ["component", ["__meta_kubernetes_pod_label_app_kubernetes_io_component"], undefined],
      ["client_index", ["__meta_kubernetes_pod_label_sfprompt_io_client_index"], undefined],
    ]);
  });
  it("with watched namespaces, looks only there, and carries the extra labels", async () => {
    const pm = monitor(
      await render(
        { [PM]: true, "operator.watchNamespaces": ["team-a", "team-b"], "metrics.podMonitor.labels": { release: "kps" } },
        undefined,
        MONITORING_API,
      ),
      "PodMonitor",
    );
    assert.deepEqual(pm.spec.namespaceSelector, { matchNames: ["team-a", "team-b"] });
    assert.equal(pm.metadata.labels.release, "kps");
  });
});
