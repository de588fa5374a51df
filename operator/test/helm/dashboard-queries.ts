// The chart's dashboard JSON and its queries as Grafana sends them to Prometheus: every panel
// target's expression and every query variable's, with the dashboard's variables substituted.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CHART } from "./chart.js";
import { interpolate, labelValuesQuery } from "./promql-refs.js";

export const DASHBOARD_FILE = join(CHART, "dashboards", "sfprompt-jobs.json");

export interface Target {
  expr: string;
  refId: string;
  datasource: { uid: string };
}
export interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

export const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, "utf8")) as Dashboard;

const allPanels = (ps: readonly Panel[]): Panel[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

/** Every query target of every panel, rows' nested panels included. */
export const targets = allPanels(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, ...t })),
);
export const variables = dashboard.templating.list;
export const variableQueries = variables
  .filter((v) => v.type === "query")
  .map((v) => ({ name: v.name, query: typeof v.query === "string" ? v.query : v.query.query }));

/** The job the tests' series belong to. */
export const JOB = { namespace: "team-a", name: "demo" };
/** Values for the dashboard's variables, as Grafana substitutes one selected value into a query. */
export const VALUES = { namespace: JOB.namespace, job: JOB.name, datasource: "prometheus" };

/** Every panel's PromQL expression, as Grafana sends it. */
export const panelExpressions = targets.map((t) => ({
  where: `panel "${t.panel}" ${t.refId}`,
  expr: interpolate(t.expr, VALUES),
}));

/** Panel expressions and the selectors of the label_values variables, as Grafana sends them. */
export const expressions = [
  ...panelExpressions,
  ...variableQueries.map((v) => ({
    where: `variable ${v.name}`,
    expr: interpolate(labelValuesQuery(v.query)?.selector ?? v.query, VALUES),
  })),
];
