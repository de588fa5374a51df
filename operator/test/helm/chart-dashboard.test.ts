// The chart's Grafana dashboard: a ConfigMap for Grafana's dashboard sidecar when asked (label,
// namespace and folder as set), whose JSON is the chart's dashboards/sfprompt-jobs.json; and every
// query of it refers only to series the operator and the job pods really export (from renders of
// their registries), with labels those series carry in Prometheus, and parses with promtool.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { checkPromql } from "@sfprompt/kube-testing";
import { JOB_METRIC_FAMILIES } from "../../src/status/job-metrics.js";
import { MONITORING_API, NAMESPACE, find, render, renderRaw, type K8sObject } from "./chart.js";
import {
  DASHBOARD_FILE,
  VALUES,
  expressions,
  targets,
  variableQueries,
  variables,
  type Dashboard,
} from "./dashboard-queries.js";
import { prometheusSeries, type SeriesLabels } from "./emitted-series.js";
import { interpolate, labelValuesQuery, promqlRefs } from "./promql-refs.js";

const ON = "metrics.grafanaDashboard.enabled";

interface ConfigMap {
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string> };
  data: Record<string, string>;
}

const dashboardMaps = (objects: K8sObject[]): K8sObject[] =>
  objects.filter((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-dashboard"));

describe("the Grafana dashboard ConfigMap", () => {
  it("is not rendered by default", async () => {
    assert.deepEqual(dashboardMaps(await render({}, undefined, MONITORING_API)), []);
  });
  it("is rendered without the Prometheus Operator's API, with the sidecar's default label, in the release namespace", async () => {
    const cm = find(await render({ [ON]: true }), "ConfigMap", "sfprompt-operator-dashboard") as unknown as ConfigMap;
    assert.equal(cm.metadata.namespace, NAMESPACE);
    assert.equal(cm.metadata.labels.grafana_dashboard, "1");
    assert.equal(cm.metadata.annotations, undefined);
    assert.deepEqual(Object.keys(cm.data), ["sfprompt-jobs.json"]);
    // verbatim: Grafana's {{label}} legends are not Helm's
    assert.equal(cm.data["sfprompt-jobs.json"], readFileSync(DASHBOARD_FILE, "utf8").trim());
    const d = JSON.parse(cm.data["sfprompt-jobs.json"]!) as Dashboard;
    assert.equal(d.uid, "sfprompt-jobs");
  });
  it("carries the label, value and extra labels asked for, lives in the namespace asked for, and names its folder", async () => {
    const cm = find(
      await render({
        [ON]: true,
        "metrics.grafanaDashboard.label": "grafana.example.com/dashboard",
        "metrics.grafanaDashboard.labelValue": "sfprompt",
        "metrics.grafanaDashboard.labels": { team: "ml" },
        "metrics.grafanaDashboard.namespace": "monitoring",
        "metrics.grafanaDashboard.folder": "SFPrompt jobs",
      }),
      "ConfigMap",
      "sfprompt-operator-dashboard",
    ) as unknown as ConfigMap;
    assert.equal(cm.metadata.namespace, "monitoring");
    assert.equal(cm.metadata.labels["grafana.example.com/dashboard"], "sfprompt");
    assert.equal(cm.metadata.labels.team, "ml");
    assert.equal(cm.metadata.labels.grafana_dashboard, undefined);
    assert.deepEqual(cm.metadata.annotations, { grafana_folder: "SFPrompt jobs" });
  });
  it("puts the folder under the annotation the sidecar is told to read", async () => {
    const cm = find(
      await render({ [ON]: true, "metrics.grafanaDashboard.folder": "ML", "metrics.grafanaDashboard.folderAnnotation": "k8s-sidecar-target-directory" }),
      "ConfigMap",
      "sfprompt-operator-dashboard",
    ) as unknown as ConfigMap;
    assert.deepEqual(cm.metadata.annotations, { "k8s-sidecar-target-directory": "ML" });
  });
  const refused: { name: string; values: Record<string, unknown>; path: RegExp }[] = [
    { name: "a label that is no label key", values: { "metrics.grafanaDashboard.label": "grafana dashboard" }, path: /\/metrics\/grafanaDashboard\/label/ },
    { name: "a label value that is no label value", values: { "metrics.grafanaDashboard.labelValue": "a b" }, path: /\/metrics\/grafanaDashboard\/labelValue/ },
    { name: "a namespace that is no DNS label", values: { "metrics.grafanaDashboard.namespace": "Monitoring" }, path: /\/metrics\/grafanaDashboard\/namespace/ },
  ];
  for (const r of refused)
    it(`refuses ${r.name}, naming the value`, async () => {
      const out = await renderRaw({ [ON]: true, ...r.values });
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, r.path);
    });
});

/** The PodMonitor's relabelled target labels, from the rendered chart. */
async function relabelledLabels(): Promise<string[]> {
  const pm = find(await render({ "metrics.podMonitor.enabled": true }, undefined, MONITORING_API), "PodMonitor") as unknown as {
    spec: { podMetricsEndpoints: { relabelings: { targetLabel: string }[] }[] };
  };
  return pm.spec.podMetricsEndpoints.flatMap((e) => e.relabelings.map((r) => r.targetLabel));
}

describe("the dashboard's queries", () => {
  it("has the datasource, namespace and job variables, and every query uses the datasource variable", () => {
    assert.deepEqual(
      variables.map((v) => [v.name, v.type]),
      [
        ["datasource", "datasource"],
        ["namespace", "query"],
        ["job", "query"],
      ],
    );
    assert.ok(targets.length > 0);
    for (const t of targets) assert.equal(t.datasource.uid, "${datasource}", `panel "${t.panel}" ${t.refId}`);
  });
  it("names only series the operator and the job pods export, with labels those series carry", async () => {
    const series: SeriesLabels = prometheusSeries(await relabelledLabels());
    const problems: string[] = [];
    const check = (where: string, expr: string): void => {
      const refs = promqlRefs(expr);
      if (refs.metrics.length === 0) problems.push(`${where}: no metric in ${expr}`);
      for (const m of refs.metrics) if (!series.has(m)) problems.push(`${where}: no series ${m}`);
      for (const [m, l] of refs.matcherLabels)
        if (series.has(m) && !series.get(m)!.has(l)) problems.push(`${where}: ${m} has no label ${l}`);
      for (const l of refs.groupingLabels)
        for (const m of refs.metrics)
          if (series.has(m) && !series.get(m)!.has(l)) problems.push(`${where}: by/on ${l}, which ${m} lacks`);
    };
    for (const e of expressions) check(e.where, e.expr);
    for (const v of variableQueries) {
      const lv = labelValuesQuery(v.query);
      if (!lv) continue;
      for (const m of promqlRefs(interpolate(lv.selector, VALUES)).metrics)
        if (!series.get(m)?.has(lv.label)) problems.push(`variable ${v.name}: ${m} has no label ${lv.label}`);
    }
    assert.deepEqual(problems, []);
  });
  it("shows every per-job series the operator exports", () => {
    const used = new Set(expressions.flatMap((e) => promqlRefs(e.expr).metrics));
    assert.deepEqual(
      JOB_METRIC_FAMILIES.map((f) => f.name).filter((n) => !used.has(n)),
      [],
    );
  });
  it("parses with promtool, which refuses a broken expression", async () => {
    const broken = 'sum by (namespace (sfprompt_job_round{namespace="a"})';
    const results = await checkPromql([...expressions.map((e) => e.expr), broken]);
    const brokenResult = results.pop()!;
    assert.match(brokenResult.error ?? "", /parse/);
    assert.deepEqual(
      results.filter((r) => r.error !== undefined).map((r) => `${r.expr}: ${r.error}`),
      [],
    );
  });
});
