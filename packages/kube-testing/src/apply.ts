// Server-side apply of YAML manifests, as `kubectl apply --server-side` does it, for test fixtures.
import {
  HttpMethod,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import yaml from "js-yaml";
import { ManifestError } from "./errors.js";
import { waitForCrd } from "./crd.js";

export interface ApplyOptions {
  /** The field manager that owns the applied fields (default "sfprompt-test"). */
  fieldManager?: string;
  /** Namespace for namespaced objects that name none (default: the kubeconfig context's, else "default"). */
  namespace?: string;
  /** Take over fields owned by other managers (default true, like a test fixture should). */
  force?: boolean;
  /** After applying a CustomResourceDefinition, wait until it is Established and in the OpenAPI
   *  document, as waitForCrd does (default 30 s; 0 = don't wait). */
  crdEstablishedTimeoutMs?: number;
}

/** Parses a multi-document YAML text into objects, refusing documents that are not Kubernetes objects. */
export function parseManifests(text: string): KubernetesObject[] {
  const docs = yaml.loadAll(text).filter((d) => d !== null && d !== undefined);
  return docs.map((d, i) => {
    const o = d as KubernetesObject;
    if (typeof o !== "object" || !o.apiVersion || !o.kind || !o.metadata?.name) {
      throw new ManifestError(
        `YAML document ${i + 1} lacks apiVersion, kind or metadata.name; each document must be one Kubernetes object`,
      );
    }
    return o;
  });
}

/**
 * KubernetesObjectApi.patch serializes the body through the typed model of known kinds, which drops
 * keys the model spells differently (a CRD schema's `x-kubernetes-validations`, `x-kubernetes-*`).
 * This sends the object as written, using the class's resource discovery and authentication.
 */
class ServerSideApply extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): ServerSideApply {
    const api = kc.makeApiClient(ServerSideApply);
    api.setDefaultNamespace(kc);
    return api;
  }

  async apply(obj: KubernetesObject, fieldManager: string, force: boolean): Promise<KubernetesObject> {
    const path = await this.specUriPath(obj, "patch");
    const req = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    req.setHeaderParam("Accept", "application/json");
    req.setHeaderParam("Content-Type", PatchStrategy.ServerSideApply);
    req.setQueryParam("fieldManager", fieldManager);
    if (force) req.setQueryParam("force", "true");
    req.setBody(JSON.stringify(obj));
    return this.requestPromise(req);
  }
}

/** Server-side applies each object in order and returns what the API server stored. */
export async function applyObjects(
  kc: KubeConfig,
  objects: KubernetesObject[],
  opts: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  const api = ServerSideApply.forConfig(kc);
  const out: KubernetesObject[] = [];
  for (const obj of objects) {
    const spec = structuredClone(obj);
    if (opts.namespace && spec.metadata && !spec.metadata.namespace) spec.metadata.namespace = opts.namespace;
    // The API server decides whether a kind is namespaced; cluster-scoped objects ignore the namespace.
    const applied = await api.apply(spec, opts.fieldManager ?? "sfprompt-test", opts.force ?? true);
    out.push(applied);
    const wait = opts.crdEstablishedTimeoutMs ?? 30_000;
    if (obj.kind === "CustomResourceDefinition" && wait > 0) {
      await waitForCrd(kc, obj.metadata!.name!, { timeoutMs: wait });
    }
  }
  return out;
}

/** Server-side applies every document of a YAML text (see applyObjects). */
export async function applyYaml(
  kc: KubeConfig,
  text: string,
  opts: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  return applyObjects(kc, parseManifests(text), opts);
}
