// Writes the CA into the caBundle of the webhook configurations the chart created, so that the API
// server trusts the operator's serving certificate. A JSON Patch per changed webhook, guarded by a
// `test` of its name, so a concurrent edit of the list fails instead of patching the wrong entry.
import {
  AdmissionregistrationV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { KubeApiError, httpStatus } from "../errors.js";

export interface CaBundleTargets {
  /** ValidatingWebhookConfiguration names. */
  validating: readonly string[];
  /** MutatingWebhookConfiguration names. */
  mutating: readonly string[];
}

interface WebhookList {
  webhooks?: { name: string; clientConfig: { caBundle?: string } }[];
}

const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

function patchOps(config: WebhookList, caBundle: string): object[] {
  return (config.webhooks ?? []).flatMap((w, i) =>
    w.clientConfig.caBundle === caBundle
      ? []
      : [
          { op: "test", path: `/webhooks/${i}/name`, value: w.name },
          { op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle },
        ],
  );
}

async function call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new KubeApiError(action, httpStatus(err), { cause: err });
  }
}

/** Sets caBundle (base64 of `caPem`) on every webhook of the named configurations; returns how many changed. */
export async function patchCaBundles(
  kc: KubeConfig,
  targets: CaBundleTargets,
  caPem: string,
): Promise<number> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const caBundle = Buffer.from(caPem).toString("base64");
  let changed = 0;
  for (const name of targets.validating) {
    const what = `ValidatingWebhookConfiguration ${name}`;
    const config = await call(`read ${what}`, () => api.readValidatingWebhookConfiguration({ name }));
    const ops = patchOps(config, caBundle);
    if (ops.length === 0) continue;
    await call(`patch caBundle of ${what}`, () =>
      api.patchValidatingWebhookConfiguration({ name, body: ops }, jsonPatch),
    );
    changed += ops.length / 2;
  }
  for (const name of targets.mutating) {
    const what = `MutatingWebhookConfiguration ${name}`;
    const config = await call(`read ${what}`, () => api.readMutatingWebhookConfiguration({ name }));
    const ops = patchOps(config, caBundle);
    if (ops.length === 0) continue;
    await call(`patch caBundle of ${what}`, () =>
      api.patchMutatingWebhookConfiguration({ name, body: ops }, jsonPatch),
    );
    changed += ops.length / 2;
  }
  return changed;
}
