// What the API server accepts as the name of each kind the chart renders, and the names a manifest
// repeats: the checks of chart-long-names.test.ts, apart from the cases it renders.
import type { K8sObject } from "./chart.js";

/** A DNS-1035 label: what a Service name must be (a letter first, no dots, ≤ 63). */
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 label (≤ 63). */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain (≤ 253): the name of most kinds. */
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface NameRule {
  pattern: RegExp;
  max: number;
  what: string;
}

const SERVICE: NameRule = { pattern: DNS_1035_LABEL, max: 63, what: "a DNS-1035 label of at most 63 characters" };
// The StatefulSet controller labels its pods controller-revision-hash=<name>-<hash of up to 10
// characters>, a label value (≤ 63): a longer name is accepted and then never gets a pod.
const STATEFUL_SET: NameRule = {
  pattern: DNS_1123_LABEL,
  max: 52,
  what: "a DNS-1123 label of at most 52 characters (its pods' controller-revision-hash label)",
};
const SUBDOMAIN: NameRule = { pattern: DNS_1123_SUBDOMAIN, max: 253, what: "a DNS-1123 subdomain" };

/** Why `name` is no valid name for a `kind`, or undefined when it is one. */
export function nameProblem(kind: string, name: string): string | undefined {
  const rule = kind === "Service" ? SERVICE : kind === "StatefulSet" ? STATEFUL_SET : SUBDOMAIN;
  if (rule.pattern.test(name) && name.length <= rule.max) return undefined;
  return `${kind} ${name} (${name.length} characters) is not ${rule.what}`;
}

/** `kind namespace/name` of every object that shares its kind, namespace and name with an earlier one. */
export function duplicates(objects: readonly K8sObject[]): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const o of objects) {
    const key = `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    if (seen.has(key)) dup.push(key);
    seen.add(key);
  }
  return dup;
}

/** Names of the rendered objects of `kind` (in `namespace` when given). */
export function namesOf(objects: readonly K8sObject[], kind: string, namespace?: string): string[] {
  return objects
    .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace))
    .map((o) => o.metadata.name);
}

/** The Service whose app.kubernetes.io/component label is `component`; throws when not exactly one. */
export function serviceOf(objects: readonly K8sObject[], component: string): K8sObject {
  const found = objects.filter(
    (o) =>
      o.kind === "Service" &&
      (o.metadata.labels as Record<string, string> | undefined)?.["app.kubernetes.io/component"] === component,
  );
  if (found.length !== 1) throw new Error(`the chart rendered ${found.length} Services of component ${component}`);
  return found[0]!;
}

/** Whether every key of `subset` has the same value in `labels`. */
export function selects(subset: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(subset).every(([k, v]) => labels[k] === v);
}

/**
 * `kind name: path=value` of every label value that is not a string (an unquoted `123` or `true` in the
 * YAML), in any metadata.labels (pod templates too), matchLabels or a Service's selector: the API
 * server refuses such an object, as label values are strings.
 */
export function nonStringLabels(objects: readonly K8sObject[]): string[] {
  const found: string[] = [];
  const check = (o: K8sObject, at: string, map: unknown): void => {
    if (map === null || typeof map !== "object") return;
    for (const [k, v] of Object.entries(map))
      if (typeof v !== "string") found.push(`${o.kind} ${o.metadata.name}: ${at}.${k}=${String(v)}`);
  };
  const walk = (o: K8sObject, node: unknown, path: string): void => {
    if (node === null || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if (k === "metadata") check(o, `${path}.metadata.labels`, (v as { labels?: unknown } | null)?.labels);
      if (k === "matchLabels") check(o, `${path}.matchLabels`, v);
      walk(o, v, `${path}.${k}`);
    }
  };
  for (const o of objects) {
    walk(o, o, "");
    if (o.kind === "Service") check(o, ".spec.selector", (o as { spec?: { selector?: unknown } }).spec?.selector);
  }
  return found;
}
