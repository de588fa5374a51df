// The dashboard's queries against a real Prometheus (Debian's binary): it scrapes the operator's
// /metrics (its registry with the jobs) and each job's server's and client's /metrics
// (ProcessMetrics), the pods labelled and annotated as the operator's builders make them and
// relabelled by the rendered PodMonitor's own relabelings. Every panel must get series for each job,
// one named past the 63 characters of a label value included, and the variables must list them.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { startPrometheus, waitFor, type TestPrometheus } from "@sfprompt/kube-testing";
import { desiredClientPod } from "../../src/desired/client-pod.js";
import { desiredDeployment } from "../../src/desired/server.js";
import { ANNOTATION_JOB_NAME, LABEL_JOB } from "../../src/names.js";
import { job, refOf } from "../fixtures.js";
import { MONITORING_API, NAMESPACE, find, render } from "./chart.js";
import { JOB, VALUES, targets } from "./dashboard-queries.js";
import { operatorExposition, processExposition, type JobId } from "./emitted-series.js";
import { interpolate } from "./promql-refs.js";

/** A job whose name passes 63 characters: its pods' sfprompt.io/job label is cut and hashed. */
const LONG: JobId = {
  namespace: JOB.namespace,
  name: "mnist.sfprompt-pruning-0.3-local-loss-eight-edge-clients-nightly-run-2026-11-27",
};
/** A job whose pods an operator from before the sfprompt.io/job-name annotation made. */
const OLDER: JobId = { namespace: JOB.namespace, name: "older" };
const JOBS = [JOB, LONG, OLDER];
const COMPONENTS = ["server", "client"] as const;
type Component = (typeof COMPONENTS)[number];

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

/** The pod's labels and annotations as Kubernetes service discovery offers them to relabelling. */
function podMeta(meta: V1ObjectMeta): Record<string, string> {
  const name = (k: string): string => k.replace(/[^a-zA-Z0-9_]/g, "_");
  const of = (kind: "label" | "annotation", map: Record<string, string> = {}): [string, string][] =>
    Object.entries(map).flatMap(([k, v]) => [
      [`__meta_kubernetes_pod_${kind}_${name(k)}`, v],
      [`__meta_kubernetes_pod_${kind}present_${name(k)}`, "true"],
    ]);
  return Object.fromEntries([...of("label", meta.labels), ...of("annotation", meta.annotations)]);
}

/** The metadata of `id`'s server pod and first client pod, from the operator's builders. */
function jobPods(id: JobId): Record<Component, V1ObjectMeta> {
  const j = job(id.name, {}, id.namespace);
  const common = { job: j, ref: refOf(j), imagePullPolicy: "IfNotPresent", natsUrl: "nats://nats:4222", configHash: "h" };
  const server = desiredDeployment({ ...common, image: "sfprompt/server:dev", replicas: 1 });
  const client = desiredClientPod({ ...common, image: "sfprompt/client:dev", index: 0, attempt: 0, edgeNodeLabel: "" });
  const pods = {
    server: { ...server.spec!.template.metadata!, name: `${server.metadata!.name!}-5d8f9c7b6-x2x9k` },
    client: client.metadata!,
  };
  if (id !== OLDER) return pods;
  const older = (m: V1ObjectMeta): V1ObjectMeta => {
    const { [ANNOTATION_JOB_NAME]: _dropped, ...annotations } = m.annotations ?? {};
    return { ...m, annotations };
  };
  return { server: older(pods.server), client: older(pods.client) };
}

const path = (id: JobId, component: Component): string => `/${id.name}/${component}`;

let http: Server;
let prom: TestPrometheus;

before(async () => {
  const bodies = new Map<string, string>([["/operator", operatorExposition(JOBS)]]);
  for (const id of JOBS) for (const c of COMPONENTS) bodies.set(path(id, c), processExposition(c, id));
  http = createServer((req, res) => {
    const body = bodies.get(req.url ?? "");
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/plain; version=0.0.4" }).end(body ?? "");
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const target = `127.0.0.1:${(http.address() as AddressInfo).port}`;

  const pm = find(await render({ "metrics.podMonitor.enabled": true }, undefined, MONITORING_API), "PodMonitor") as unknown as {
    spec: { podMetricsEndpoints: { honorLabels: boolean; relabelings: Relabeling[] }[] };
  };
  const endpoint = pm.spec.podMetricsEndpoints[0]!;
  // the Prometheus Operator's own target labels for a pod: its namespace, name, container, port
  const pod = (id: JobId, component: Component, meta: V1ObjectMeta): object => ({
    job_name: `pods${path(id, component).replace(/[^a-zA-Z0-9]/g, "-")}`,
    metrics_path: path(id, component),
    honor_labels: endpoint.honorLabels,
    static_configs: [
      {
        targets: [target],
        labels: { ...podMeta(meta), namespace: id.namespace, pod: meta.name!, container: component, endpoint: "health" },
      },
    ],
    relabel_configs: endpoint.relabelings.map(relabelConfig),
  });
  const podConfigs = JOBS.flatMap((id) => {
    const pods = jobPods(id);
    return COMPONENTS.map((c) => pod(id, c, pods[c]));
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
      ...podConfigs,
    ],
  });
  // rate() needs two samples of each target
  const count = String(podConfigs.length + 1);
  await waitFor(async () => (await prom.query("count(count_over_time(up[1m]) >= 3)"))[0]?.value[1] === count, {
    timeoutMs: 30_000,
    description: `three scrapes of each of the ${count} targets`,
  });
});

after(async () => {
  await prom?.stop();
  await new Promise((resolve) => http?.close(resolve));
});

/** Rows of `expr`'s result: the values of `labels` in each series, sorted. */
async function rows(expr: string, labels: readonly string[]): Promise<(string | undefined)[][]> {
  return (await prom.query(expr)).map((s) => labels.map((l) => s.metric[l])).sort();
}

const everyPod = (extra: readonly string[] = []): string[][] =>
  JOBS.flatMap((id) => COMPONENTS.map((c) => [id.namespace, id.name, c, ...extra])).sort();

describe("the dashboard against a real Prometheus", () => {
  it("the pod series carry the job's namespace and full name, as the operator's do", async () => {
    const labels = ["namespace", "sfprompt_job", "component"];
    assert.deepEqual(await rows("count by (namespace, sfprompt_job, component) (sfprompt_ready)", labels), everyPod());
    // the long job's pods carry its label cut and hashed: only the annotation gives its name
    assert.notEqual(jobPods(LONG).client.labels![LABEL_JOB], LONG.name);
  });
  it("every pod series joins the operator's series of its job on namespace and sfprompt_job", async () => {
    const joined = `count by (namespace, sfprompt_job, component) (sfprompt_ready * on (namespace, sfprompt_job) group_left () max by (namespace, sfprompt_job) (sfprompt_job_round))`;
    assert.deepEqual(await rows(joined, ["namespace", "sfprompt_job", "component"]), everyPod());
  });
  it("sfprompt_process_info's own namespace and sfprompt_job are the job's, not the data-plane token", async () => {
    const labels = ["namespace", "sfprompt_job", "component", "role", "exported_sfprompt_job"];
    const rolesMatch = everyPod().map(([ns, name, c]) => [ns, name, c, c, undefined]);
    assert.deepEqual(await rows("sfprompt_process_info", labels), rolesMatch.sort());
  });
  it("every panel query returns series for each selected job", async () => {
    const empty: string[] = [];
    for (const id of JOBS)
      for (const t of targets) {
        const expr = interpolate(t.expr, { ...VALUES, namespace: id.namespace, job: id.name });
        if ((await prom.query(expr)).length === 0) empty.push(`${id.name}: panel "${t.panel}" ${t.refId}: ${expr}`);
      }
    assert.deepEqual(empty, []);
  });
  it("the namespace and job variables' series list the jobs", async () => {
    const namespaces = await prom.query("count by (namespace) (sfprompt_job_phase)");
    assert.deepEqual(namespaces.map((s) => s.metric.namespace), [JOB.namespace]);
    const jobs = await prom.query(`count by (sfprompt_job) (sfprompt_job_phase{namespace=~"${JOB.namespace}"})`);
    assert.deepEqual(jobs.map((s) => s.metric.sfprompt_job).sort(), JOBS.map((j) => j.name).sort());
  });
});
