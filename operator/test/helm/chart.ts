// Rendering the Helm chart for tests: `helm template` with value overrides, parsed into objects.
import { join } from "node:path";
import { helm, type CommandResult } from "@sfprompt/kube-testing";
import yaml from "js-yaml";

export const CHART = join(import.meta.dirname, "..", "..", "..", "helm", "sfprompt-operator");
export const NAMESPACE = "sfprompt-system";
/** The release name the docs use; the chart then names its objects sfprompt-operator-*. */
export const RELEASE = "sfprompt-operator";

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** `--set` arguments from a flat map (values as helm's --set-json takes them). */
function setArgs(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([k, v]) => ["--set-json", `${k}=${JSON.stringify(v)}`]);
}

/** `--api-versions` for the Prometheus Operator's API, as a cluster with its CRDs reports it. */
export const MONITORING_API = ["--api-versions", "monitoring.coreos.com/v1"];

/** `helm template`; `extra` are further helm arguments (e.g. MONITORING_API). */
export function renderRaw(
  values: Record<string, unknown> = {},
  release = RELEASE,
  extra: readonly string[] = [],
): Promise<CommandResult> {
  return helm(["template", release, CHART, "--namespace", NAMESPACE, ...extra, ...setArgs(values)], { allowFailure: true });
}

/** The rendered manifest text; throws with helm's message when rendering fails. */
export async function renderText(
  values: Record<string, unknown> = {},
  release = RELEASE,
  extra: readonly string[] = [],
): Promise<string> {
  const r = await renderRaw(values, release, extra);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return r.stdout;
}

export async function render(
  values: Record<string, unknown> = {},
  release = RELEASE,
  extra: readonly string[] = [],
): Promise<K8sObject[]> {
  return yaml.loadAll(await renderText(values, release, extra)).filter((d): d is K8sObject => d !== null && typeof d === "object");
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`the chart rendered no ${kind}${name ? ` ${name}` : ""}`);
  return o;
}

/** The operator container's environment as name → value (fieldRef values left out). */
export function operatorEnv(objects: K8sObject[]): Record<string, string> {
  const d = find(objects, "Deployment") as unknown as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  const env = d.spec.template.spec.containers[0]!.env;
  return Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}
