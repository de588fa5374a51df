// The operator's writes to the API server, each in one place: server-side apply of children, deletes,
// the job's status patch, its finalizer, and its deletion.
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, type Status } from "@sfprompt/api";
import { KubeApiError, httpStatus } from "../errors.js";
import { FIELD_MANAGER } from "../names.js";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (cause) {
    throw new KubeApiError(action, httpStatus(cause), { cause });
  }
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export class ObjectClient {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Server-side apply with the operator's field manager, taking over conflicting fields (force). */
  apply<T extends KubernetesObject>(obj: T): Promise<T> {
    const what = `apply ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`;
    return call(what, () =>
      this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
    );
  }

  /** The object as stored, or undefined when there is none. */
  async read(ref: ObjectRef): Promise<KubernetesObject | undefined> {
    const what = `read ${ref.kind} ${ref.namespace}/${ref.name}`;
    try {
      return await call(what, () =>
        this.objects.read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        }),
      );
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  /** Deletes an object; already gone counts as success. */
  async delete(ref: ObjectRef, uid?: string): Promise<void> {
    const what = `delete ${ref.kind} ${ref.namespace}/${ref.name}`;
    const body = uid ? { preconditions: { uid } } : undefined;
    try {
      await call(what, () =>
        this.objects.delete(
          {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            metadata: { name: ref.name, namespace: ref.namespace },
          },
          undefined,
          undefined,
          undefined,
          undefined,
          "Background",
          body,
        ),
      );
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }

  /** One merge patch of the job's status subresource. */
  async patchJobStatus(
    namespace: string,
    name: string,
    patch: Partial<Record<keyof Status, unknown>>,
  ): Promise<void> {
    await call(`patch status of SFPromptJob ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { status: patch } },
        mergePatch,
      ),
    );
  }

  /**
   * Sets the job's finalizers to `finalizers`, guarded by `resourceVersion` so a concurrent change
   * (another finalizer added by someone else) makes this fail with 409 instead of being overwritten.
   */
  async setJobFinalizers(
    namespace: string,
    name: string,
    resourceVersion: string,
    finalizers: string[],
  ): Promise<void> {
    await call(`update finalizers of SFPromptJob ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name,
          body: { metadata: { resourceVersion, finalizers } },
        },
        mergePatch,
      ),
    );
  }

  /** Deletes the job (TTL after finishing); its finalizer still runs. */
  async deleteJob(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await call(`delete SFPromptJob ${namespace}/${name}`, () =>
        this.custom.deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
          name,
          body: { preconditions: { uid } },
        }),
      );
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }
}
