// Waiting for a CustomResourceDefinition to be usable: Established (objects of its kind accepted) and
// published in the OpenAPI v3 document (what `kubectl explain` and client-side validation read).
import { request, type RequestOptions } from "node:https";
import {
  ApiextensionsV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { waitFor } from "./wait.js";

export interface WaitForCrdOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Also wait until the OpenAPI v3 document has the kind's schema (default true). */
  openApi?: boolean;
}

/** GETs a path of the API server as the kubeconfig's user; undefined on a non-200 answer. */
async function getJson(kc: KubeConfig, path: string): Promise<unknown> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig has no current cluster");
  const opts: RequestOptions = { timeout: 5000 };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, server), opts, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 ? JSON.parse(body) : undefined));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

function established(crd: V1CustomResourceDefinition): boolean {
  return !!crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
}

async function published(kc: KubeConfig, crd: V1CustomResourceDefinition): Promise<boolean> {
  for (const v of crd.spec.versions.filter((x) => x.served)) {
    const doc = (await getJson(kc, `/openapi/v3/apis/${crd.spec.group}/${v.name}`)) as
      { components?: { schemas?: Record<string, unknown> } } | undefined;
    const names = Object.keys(doc?.components?.schemas ?? {});
    if (!names.some((n) => n.endsWith(`.${crd.spec.names.kind}`))) return false;
  }
  return true;
}

/** Waits until the named CRD is Established and (by default) its served versions are in OpenAPI v3. */
export async function waitForCrd(kc: KubeConfig, name: string, opts: WaitForCrdOptions = {}): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const crd = await waitFor(
    async () => {
      const c = await api.readCustomResourceDefinition({ name });
      return established(c) && c;
    },
    { timeoutMs, description: `CustomResourceDefinition ${name} to become Established` },
  );
  if (opts.openApi === false) return;
  await waitFor(() => published(kc, crd), {
    timeoutMs,
    intervalMs: 200,
    description: `the OpenAPI v3 schema of CustomResourceDefinition ${name} to be published`,
  });
}
