// The generated certificate set lives in one Secret, so every operator replica serves the same
// certificate and the caBundle patched into the webhook configurations fits all of them.
import { CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { KubeApiError, httpStatus } from "../../errors.js";
import type { Logger } from "../../log.js";
import { certProblem, generateWebhookCerts, type WebhookCertBundle } from "./webhook-certs.js";

export interface CertSecretOptions {
  namespace: string;
  name: string;
  /** DNS names/IPs the serving certificate must cover. */
  hosts: readonly string[];
  log?: Logger;
  now?: () => Date;
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined): string => Buffer.from(s ?? "", "base64").toString("utf8");

export function bundleFromSecret(secret: V1Secret): WebhookCertBundle {
  const d = secret.data ?? {};
  return { caPem: unb64(d["ca.crt"]), certPem: unb64(d["tls.crt"]), keyPem: unb64(d["tls.key"]) };
}

function secretBody(opts: CertSecretOptions, bundle: WebhookCertBundle, resourceVersion?: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "sfprompt-operator",
        "app.kubernetes.io/component": "webhook",
      },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    data: { "ca.crt": b64(bundle.caPem), "tls.crt": b64(bundle.certPem), "tls.key": b64(bundle.keyPem) },
  };
}

async function readSecret(core: CoreV1Api, opts: CertSecretOptions): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace: opts.namespace, name: opts.name });
  } catch (err) {
    if (httpStatus(err) === 404) return undefined;
    throw new KubeApiError(`read Secret ${opts.namespace}/${opts.name}`, httpStatus(err), { cause: err });
  }
}

/**
 * Returns the certificate set stored in the Secret, generating and storing a new one when the
 * Secret is missing or its certificate unfit (expiring, other hosts). Replicas racing to write
 * resolve through the API server's optimistic concurrency: the loser reads the winner's set.
 */
export async function ensureCertSecret(kc: KubeConfig, opts: CertSecretOptions): Promise<WebhookCertBundle> {
  const core = kc.makeApiClient(CoreV1Api);
  const now = opts.now?.() ?? new Date();
  const where = `Secret ${opts.namespace}/${opts.name}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await readSecret(core, opts);
    if (existing) {
      const bundle = bundleFromSecret(existing);
      const problem = certProblem(bundle, { hosts: opts.hosts, now });
      if (!problem) return bundle;
      opts.log?.info("regenerating the webhook certificate", { secret: where, reason: problem });
    }
    const fresh = generateWebhookCerts({ hosts: opts.hosts, now });
    try {
      if (existing)
        await core.replaceNamespacedSecret({
          namespace: opts.namespace,
          name: opts.name,
          body: secretBody(opts, fresh, existing.metadata?.resourceVersion),
        });
      else await core.createNamespacedSecret({ namespace: opts.namespace, body: secretBody(opts, fresh) });
      opts.log?.info("stored a new webhook certificate", { secret: where, hosts: opts.hosts });
      return fresh;
    } catch (err) {
      // 409: another replica wrote first; read its certificate on the next pass.
      if (httpStatus(err) !== 409) throw new KubeApiError(`write ${where}`, httpStatus(err), { cause: err });
    }
  }
  throw new KubeApiError(`write ${where}`, 409, {
    cause: new Error("conflicting writes kept winning; is another controller rewriting this Secret?"),
  });
}
