// A real kube-apiserver with the operator's webhook registered as the operator registers it: its
// certificate generated into a Secret, its CA patched into the webhook configurations, the API server
// calling it over TLS on loopback. Shared by the webhook's API server tests.
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION, crdYaml } from "@sfprompt/api";
import {
  applyObjects,
  kubectl,
  startControlPlane,
  waitFor,
  waitForCrd,
  type ControlPlane,
} from "@sfprompt/kube-testing";
import yaml from "js-yaml";
import { jobWith, type Json } from "../../../packages/api/test/helpers/builders.js";
import { createLogger } from "../../src/log.js";
import { startWebhook, type RunningWebhook } from "../../src/webhook/run-webhook.js";
import { parseWebhookConfig } from "../../src/webhook/webhook-config.js";

export const VALIDATING = "sfprompt-test-validating";
export const MUTATING = "sfprompt-test-mutating";
export const DENIED = 'admission webhook "validate.sfpromptjobs.sfprompt.io" denied the request: ';
/** Where the operator keeps the webhook's certificate. */
export const WEBHOOK_NAMESPACE = "sfprompt-system";

/** The generated CRD with an open spec, so that every spec reaches the webhook unchanged. */
export function permissiveCrd(): Json {
  const crd = yaml.load(crdYaml()) as Json;
  const version = (crd.spec as { versions: { schema: { openAPIV3Schema: { properties: Json } } }[] })
    .versions[0]!;
  version.schema.openAPIV3Schema.properties.spec = {
    type: "object",
    "x-kubernetes-preserve-unknown-fields": true,
  };
  return crd;
}

function webhookConfigs(port: number): Json[] {
  const hook = (name: string, path: string, operations: string[]): Json => ({
    name,
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: "Fail",
    timeoutSeconds: 5,
    clientConfig: { url: `https://127.0.0.1:${port}${path}` },
    rules: [
      { apiGroups: [GROUP], apiVersions: [VERSION], operations, resources: [PLURAL], scope: "Namespaced" },
    ],
  });
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: VALIDATING },
      webhooks: [hook("validate.sfpromptjobs.sfprompt.io", "/validate-sfpromptjob", ["CREATE", "UPDATE"])],
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: MUTATING },
      webhooks: [hook("default.sfpromptjobs.sfprompt.io", "/mutate-sfpromptjob", ["CREATE", "UPDATE"])],
    },
  ];
}

export interface WebhookControlPlane {
  cp: ControlPlane;
  webhook: RunningWebhook;
  custom: CustomObjectsApi;
  /** The API server's message for a refused create, or undefined when it was created (and then deleted). */
  createRefusal(job: Json): Promise<string | undefined>;
  /** Installs (or replaces) the CRD, waiting until it is served. */
  installCrd(text: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the control plane with `namespaces`, the permissive CRD and the webhook, and returns once
 * the API server calls the webhook. The webhook configurations are created after the webhook starts,
 * as when the operator starts before Helm creates them; `beforeConfigs` sees the webhook then.
 */
export async function startWebhookControlPlane(
  namespaces: string[],
  beforeConfigs: (webhook: RunningWebhook) => void = () => {},
): Promise<WebhookControlPlane> {
  const cp = await startControlPlane();
  const custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const core = cp.kubeConfig.makeApiClient(CoreV1Api);
  for (const name of [...namespaces, WEBHOOK_NAMESPACE])
    await core.createNamespace({ body: { metadata: { name } } });
  /** kubectl, not client-node: the client's typed serializer drops `x-kubernetes-*` schema keys. */
  const installCrd = async (text: string): Promise<void> => {
    await kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], cp.kubeconfigPath, {
      input: text,
    });
    // Polled, not `kubectl wait`: that fails at once when a new CRD has no status.conditions yet.
    await waitForCrd(cp.kubeConfig, "sfpromptjobs.sfprompt.io", { openApi: false });
  };
  const createRefusal = async (job: Json): Promise<string | undefined> => {
    const meta = job.metadata as { name: string; namespace: string };
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace: meta.namespace };
    try {
      await custom.createNamespacedCustomObject({ ...ref, body: job });
    } catch (err) {
      return (JSON.parse((err as { body: string }).body) as { message: string }).message;
    }
    await custom.deleteNamespacedCustomObject({ ...ref, name: meta.name });
    return undefined;
  };
  await installCrd(yaml.dump(permissiveCrd()));
  const config = parseWebhookConfig(
    [
      "--webhook=true",
      "--webhook-host=127.0.0.1",
      "--webhook-port=0",
      `--webhook-namespace=${WEBHOOK_NAMESPACE}`,
      "--webhook-extra-hosts=127.0.0.1",
      `--webhook-validating-configurations=${VALIDATING}`,
      `--webhook-mutating-configurations=${MUTATING}`,
    ],
    {},
  );
  const webhook = await startWebhook(
    { ...config, retryMs: 200 },
    {
      kubeConfig: cp.kubeConfig,
      log: createLogger({ level: process.env.SFPROMPT_TEST_LOG === "1" ? "debug" : "error" }),
    },
  );
  beforeConfigs(webhook);
  await applyObjects(cp.kubeConfig, webhookConfigs(webhook.port) as never[]);
  await waitFor(() => webhook.ready(), { timeoutMs: 10_000, description: "caBundle patched" });
  // The API server picks up webhook configurations from an informer: wait until it calls ours.
  const invalid = jobWith({ training: { rounds: 0 } }, { name: "probe", namespace: WEBHOOK_NAMESPACE });
  await waitFor(async () => (await createRefusal(invalid))?.startsWith(DENIED), {
    timeoutMs: 20_000,
    description: "the API server to call the webhook",
  });
  const stop = async (): Promise<void> => {
    await webhook.stop();
    await cp.stop();
  };
  return { cp, webhook, custom, createRefusal, installCrd, stop };
}
