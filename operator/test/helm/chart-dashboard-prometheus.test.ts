// The dashboard's queries against a real Prometheus (Debian's binary): it scrapes the operator's
// /metrics (its registry with one job) and a server's and a client's /metrics (ProcessMetrics), the
// pods labelled as the operator's builders label them and relabelled by the rendered PodMonitor's
// own relabelings. Every panel must get series for the selected job, and the variables must list it.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { startPrometheus, waitFor, type TestPrometheus } from "@sfprompt/kube-testing";
import { desiredClientPod } from "../../src/desired/client-pod.js";
import { desiredDeployment } from "../../src/desired/server.js";
import { job, refOf } from "../fixtures.js";
import { MONITORING_API, NAMESPACE, find, render } from "./chart.js";
import { JOB, panelExpressions } from "./dashboard-queries.js";
import { operatorExposition, processExposition } from "./emitted-series.js";

interface Relabeling {
  sourceLabels?: string[];
  targetLabel?: string;
  action?: string;
  regex?: string;
  replacement?: string;
  separator?: string;
}

/** A PodMonitor relabeling as Prometheus's relabel_configs spell it. */
const relabelConfig = (r: Relabeling): Record<string, unknown> =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));

/** The pod labels as Kubernetes service discovery offers them to relabelling. */
const podMeta = (labels: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, "_")}`, v]),
  );

/** The labels of the server's and first client's pods of JOB, from the operator's builders. */
function jobPodLabels(): { server: Record<string, string>; client: Record<string, string> } {
  const j = job(JOB.name, {}, JOB.namespace);
  const common = { job: j, ref: refOf(j), imagePullPolicy: "IfNotPresent", natsUrl: "nats://nats:4222", configHash: "h" };
  const server = desiredDeployment({ ...common, image: "sfprompt/server:dev", replicas: 1 });
  const client = desiredClientPod({ ...common, image: "sfprompt/client:dev", index: 0, attempt: 0, edgeNodeLabel: "" });
  return { server: server.spec!.template.metadata!.labels!, client: client.metadata!.labels! };
}

let http: Server;
let prom: TestPrometheus;

before(async () => {
  const bodies: Record<string, string> = {
    "/operator": operatorExposition(),
    "/server": processExposition("server"),
    "/client": processExposition("client"),
  };
  http = createServer((req, res) => {
    const body = bodies[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" }).end(body ?? "");
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const target = `127.0.0.1:${(http.address() as AddressInfo).port}`;

  const pm = find(await render({ "metrics.podMonitor.enabled": true }, undefined, MONITORING_API), "PodMonitor") as unknown as {
    spec: { podMetricsEndpoints: { honorLabels: boolean; relabelings: Relabeling[] }[] };
  };
  const endpoint = pm.spec.podMetricsEndpoints[0]!;
  const pods = jobPodLabels();
  // the Prometheus Operator's own target labels for a pod: its namespace, name, container, port
  const pod = (component: "server" | "client", labels: Record<string, string>): object => ({
    job_name: `pods-${component}`,
    metrics_path: `/${component}`,
    honor_labels: endpoint.honorLabels,
    static_configs: [
      {
        targets: [target],
        labels: { ...podMeta(labels), namespace: JOB.namespace, pod: `${JOB.name}-${component}-0`, container: component, endpoint: "health" },
      },
    ],
    relabel_configs: endpoint.relabelings.map(relabelConfig),
  });
  prom = await startPrometheus({
    scrapeConfigs: [
      {
        job_name: "operator",
        metrics_path: "/operator",
        honor_labels: true,
        static_configs: [
          {
            targets: [target],
            labels: { namespace: NAMESPACE, pod: "sfprompt-operator-0", container: "operator", endpoint: "http", service: "sfprompt-operator-metrics" },
          },
        ],
      },
      pod("server", pods.server),
      pod("client", pods.client),
    ],
  });
  // rate() needs two samples of each target
  await waitFor(async () => (await prom.query("count(count_over_time(up[1m]) >= 3)"))[0]?.value[1] === "3", {
    timeoutMs: 30_000,
    description: "three scrapes of each of the three targets",
  });
});

after(async () => {
  await prom?.stop();
  await new Promise((resolve) => http?.close(resolve));
});

describe("the dashboard against a real Prometheus", () => {
  it("the pod series carry the job's namespace and name, as the operator's do", async () => {
    const jobs = await prom.query(`count by (namespace, sfprompt_job, component) (sfprompt_ready)`);
    assert.deepEqual(
      jobs.map((s) => [s.metric.namespace, s.metric.sfprompt_job, s.metric.component]).sort(),
      [
        [JOB.namespace, JOB.name, "client"],
        [JOB.namespace, JOB.name, "server"],
      ],
    );
  });
  it("every panel query returns series for the selected job", async () => {
    const empty: string[] = [];
    for (const e of panelExpressions) if ((await prom.query(e.expr)).length === 0) empty.push(`${e.where}: ${e.expr}`);
    assert.deepEqual(empty, []);
  });
  it("the namespace and job variables' series list the job", async () => {
    const namespaces = await prom.query("count by (namespace) (sfprompt_job_phase)");
    assert.deepEqual(namespaces.map((s) => s.metric.namespace), [JOB.namespace]);
    const jobs = await prom.query(`count by (sfprompt_job) (sfprompt_job_phase{namespace=~"${JOB.namespace}"})`);
    assert.deepEqual(jobs.map((s) => s.metric.sfprompt_job), [JOB.name]);
  });
});
