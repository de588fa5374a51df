// The webhook at run time: obtain the certificate (generated into a Secret, or from a mounted
// folder), serve HTTPS, keep the webhook configurations' caBundle equal to the CA, and re-check
// both periodically so rotation needs no restart.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import { patchCaBundles } from "./ca-bundle.js";
import { readCertDir } from "./certs/cert-dir.js";
import { ensureCertSecret } from "./certs/cert-secret.js";
import type { WebhookConfig } from "./webhook-config.js";
import { startWebhookServer, type TlsFiles, type WebhookServer } from "./webhook-server.js";

export interface RunningWebhook {
  port: number;
  /** True once the server has a certificate and the caBundle (if managed) is patched. */
  ready(): boolean;
  stop(): Promise<void>;
}

interface CertState {
  tls: TlsFiles;
  caPem: string | undefined;
}

async function loadCerts(config: WebhookConfig, kc: KubeConfig, log: Logger): Promise<CertState> {
  if (config.certs.mode === "dir") {
    const d = await readCertDir(config.certs.dir);
    return { tls: { cert: d.certPem, key: d.keyPem }, caPem: d.caPem };
  }
  const b = await ensureCertSecret(kc, {
    namespace: config.certs.secretNamespace,
    name: config.certs.secretName,
    hosts: config.hosts,
    log,
  });
  return { tls: { cert: b.certPem, key: b.keyPem }, caPem: b.caPem };
}

const managesCaBundle = (c: WebhookConfig): boolean =>
  c.caBundle.validating.length + c.caBundle.mutating.length > 0;

/** Starts the webhook; rejects when no certificate can be obtained (the process should exit). */
export async function startWebhook(
  config: WebhookConfig,
  deps: { kubeConfig: KubeConfig; log: Logger },
): Promise<RunningWebhook> {
  const log = deps.log.with({ component: "webhook" });
  let certs = await loadCerts(config, deps.kubeConfig, log);
  let patched = !managesCaBundle(config);
  const server: WebhookServer = await startWebhookServer({
    port: config.port,
    host: config.host,
    tls: certs.tls,
    log,
    ready: () => patched,
  });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const syncCaBundle = async (): Promise<void> => {
    if (!managesCaBundle(config)) return;
    if (!certs.caPem) {
      log.warn("no ca.crt in the certificate folder; cannot patch caBundle, set it in the chart instead");
      patched = true;
      return;
    }
    const changed = await patchCaBundles(deps.kubeConfig, config.caBundle, certs.caPem);
    if (changed > 0) log.info("patched caBundle into the webhook configurations", { webhooks: changed });
    patched = true;
  };

  const refresh = async (): Promise<void> => {
    let delay = config.refreshMs;
    try {
      const next = await loadCerts(config, deps.kubeConfig, log);
      if (next.tls.cert !== certs.tls.cert || next.tls.key !== certs.tls.key) {
        server.setTls(next.tls);
        log.info("webhook serving certificate reloaded");
      }
      certs = next;
      await syncCaBundle();
    } catch (err) {
      log.error("webhook certificate refresh failed; retrying", { err: (err as Error).message });
      delay = patched ? Math.min(config.refreshMs, 60_000) : config.retryMs;
    }
    if (!stopped) timer = setTimeout(() => void refresh(), delay).unref();
  };

  try {
    await syncCaBundle();
    timer = setTimeout(() => void refresh(), config.refreshMs).unref();
  } catch (err) {
    // The configurations may not exist yet (created in the same `helm install`); keep trying.
    log.warn("patching caBundle failed; retrying", { err: (err as Error).message, retryMs: config.retryMs });
    timer = setTimeout(() => void refresh(), config.retryMs).unref();
  }
  log.info("webhook listening", { port: server.port, certMode: config.certs.mode });
  return {
    port: server.port,
    ready: () => patched,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await server.close();
    },
  };
}
