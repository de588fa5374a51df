// A job status written while the cluster had the CRD of before ADR 0002 amendment 1 (no safe-integer
// bounds, no date-time pattern), as on a cluster upgraded with its jobs in place: the API server
// keeps such a status, and zod rejects it. Since that amendment the current CRD refuses these
// values, so tests of unreadable stored statuses put them in through this path.
import assert from "node:assert/strict";
import { CRD_NAME, GROUP, PLURAL, VERSION } from "@sfprompt/api";
import { kubectl, waitFor } from "@sfprompt/kube-testing";
import type { JobObject } from "./integration/harness.js";

type Condition = NonNullable<NonNullable<JobObject["status"]>["conditions"]>[number];

type Node = { [key: string]: unknown };

/** The schema as the generator wrote it before the amendment: bounds and patterns it added removed. */
function older(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(older);
  if (typeof node !== "object" || node === null) return node;
  const out: Node = {};
  for (const [k, v] of Object.entries(node as Node)) out[k] = older(v);
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (out.minimum === -Number.MAX_SAFE_INTEGER) delete out.minimum;
  if (out.format === "date-time") delete out.pattern;
  return out;
}

async function run(kubeconfigPath: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, kubeconfigPath, {
    allowFailure: true,
    ...(input === undefined ? {} : { input }),
  });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Replaces the CRD's spec (a PUT: fields the new one omits go, whoever applied them). */
async function replaceSpec(kubeconfigPath: string, spec: unknown): Promise<void> {
  const live = JSON.parse(await run(kubeconfigPath, ["get", "crd", CRD_NAME, "-o", "json"])) as Node;
  await run(kubeconfigPath, ["replace", "-f", "-"], JSON.stringify({ ...live, spec }));
}

/**
 * Whether the API server validates with the current CRD: a dry-run create of a job with a
 * tolerationSeconds of 2^53 is refused by the schema (the older one stored it). A status patch could
 * not tell: validation ratcheting lets an unchanged value through.
 */
async function currentCrdActive(kubeconfigPath: string, namespace: string): Promise<boolean> {
  const job = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "SFPromptJob",
    metadata: { name: "older-crd-probe", namespace },
    spec: { clients: { tolerations: [{ operator: "Exists", tolerationSeconds: 2 ** 53 }] } },
  };
  const r = await kubectl(["create", "--dry-run=server", "-f", "-"], kubeconfigPath, {
    allowFailure: true,
    input: JSON.stringify(job),
  });
  return r.code !== 0 && r.stderr.includes("less than or equal to 9007199254740991");
}

/**
 * Merge-patches job `name`'s status with `status` under the older CRD, then puts the current CRD
 * back and waits until the API server validates with it again; the patched resourceVersion.
 */
export async function patchStatusUnderOlderCrd(
  kubeconfigPath: string,
  ref: { namespace: string; name: string },
  status: Record<string, unknown>,
): Promise<string> {
  const current = (JSON.parse(await run(kubeconfigPath, ["get", "crd", CRD_NAME, "-o", "json"])) as Node)
    .spec;
  const patch = (): Promise<string> =>
    run(kubeconfigPath, [
      "patch",
      `${PLURAL}.${VERSION}.${GROUP}`,
      ref.name,
      "-n",
      ref.namespace,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
      "-o",
      "jsonpath={.metadata.resourceVersion}",
    ]);
  await replaceSpec(kubeconfigPath, older(current));
  // The API server takes up a changed CRD schema a moment after the write.
  const version = await waitFor(patch, {
    timeoutMs: 30_000,
    intervalMs: 200,
    description: "the API server to store the status under the older CRD",
  });
  await replaceSpec(kubeconfigPath, current);
  await waitFor(() => currentCrdActive(kubeconfigPath, ref.namespace), {
    timeoutMs: 30_000,
    intervalMs: 200,
    description: "the API server to validate with the current CRD again",
  });
  return version;
}

/**
 * The same time with an offset of +99:99, which the older CRD let through and which reads in no case
 * (a lower-case time is the same instant and reads in upper case: ADR 0023, amendment 9).
 */
export const unreadableTime = (t: string): string => t.replace(/Z$/, "+99:99");

/** A job's conditions with `type`'s time made unreadable (a merge patch of them replaces the list). */
export function withUnreadableTime(j: JobObject, type: string): Condition[] {
  const all = j.status?.conditions ?? [];
  assert.ok(
    all.some((c) => c.type === type),
    `${j.metadata?.name} has a ${type} condition`,
  );
  return all.map((c) =>
    c.type === type ? { ...c, lastTransitionTime: unreadableTime(c.lastTransitionTime) } : c,
  );
}
