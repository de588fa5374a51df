// Certificates provided by the user (a Secret mounted as a folder, e.g. by cert-manager): tls.crt,
// tls.key and optionally ca.crt, re-read when the kubelet updates the mounted files.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { WebhookCertError } from "../errors.js";

export interface DirCerts {
  certPem: string;
  keyPem: string;
  /** ca.crt when the folder has one (cert-manager writes it); used for the caBundle. */
  caPem?: string;
}

async function read(dir: string, file: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(join(dir, file), "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new WebhookCertError(
      `cannot read ${join(dir, file)}: ${(err as Error).message}; mount a kubernetes.io/tls Secret there (webhook.certs.secretName in the chart) or use --webhook-cert-mode=generate`,
      { cause: err },
    );
  }
}

export async function readCertDir(dir: string): Promise<DirCerts> {
  const [certPem, keyPem, caPem] = await Promise.all([
    read(dir, "tls.crt", true),
    read(dir, "tls.key", true),
    read(dir, "ca.crt", false),
  ]);
  return { certPem: certPem!, keyPem: keyPem!, ...(caPem ? { caPem } : {}) };
}
