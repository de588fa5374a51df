// The webhook's certificate set (CA + serving certificate for the webhook Service's DNS names):
// generated, checked for fitness, and named the way a kubernetes.io/tls Secret stores it.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { issueCertificate, newKeyPair } from "./x509.js";

/** PEM texts; the Secret keys are ca.crt, tls.crt and tls.key (the cert-manager layout). */
export interface WebhookCertBundle {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface GenerateOptions {
  /** DNS names and IPs the serving certificate is valid for (the first is its common name). */
  hosts: readonly string[];
  /** Validity of both certificates (default 10 years: rotation happens by regeneration). */
  validityDays?: number;
  now?: Date;
}

const DAY_MS = 86_400_000;

/** The DNS names by which the API server reaches a Service: <svc>.<ns>.svc is what it dials. */
export function serviceHosts(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/** A fresh self-signed CA and a serving certificate signed by it. */
export function generateWebhookCerts(opts: GenerateOptions): WebhookCertBundle {
  const now = opts.now ?? new Date();
  // Back-date by an hour so that nodes with a slightly slow clock accept the certificate at once.
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now.getTime() + (opts.validityDays ?? 3650) * DAY_MS);
  const caKeys = newKeyPair();
  const caName = "sfprompt-webhook-ca";
  const ca = issueCertificate({ commonName: caName, isCA: true, notBefore, notAfter }, caKeys);
  const serving = issueCertificate(
    { commonName: opts.hosts[0] ?? "sfprompt-webhook", hosts: opts.hosts, isCA: false, notBefore, notAfter },
    newKeyPair(),
    { commonName: caName, keys: caKeys },
  );
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem };
}

export interface FitnessOptions {
  hosts: readonly string[];
  /** Regenerate when the serving certificate expires within this time (default 30 days). */
  renewBeforeMs?: number;
  now?: Date;
}

function hostCovered(cert: X509Certificate, host: string): boolean {
  return /^[\d.]+$|:/.test(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}

/**
 * Why `bundle` cannot serve the webhook (unparseable, not signed by its CA, key mismatch, a host
 * missing, expiring), or undefined when it can.
 */
export function certProblem(bundle: WebhookCertBundle, opts: FitnessOptions): string | undefined {
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(bundle.caPem);
    cert = new X509Certificate(bundle.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(bundle.keyPem))) return "tls.key does not match tls.crt";
  } catch (err) {
    return `cannot parse the certificates or key: ${(err as Error).message}`;
  }
  if (!ca.ca) return "ca.crt is not a CA certificate";
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return "tls.crt is not signed by ca.crt";
  const missing = opts.hosts.filter((h) => !hostCovered(cert, h));
  if (missing.length > 0) return `tls.crt does not cover ${missing.join(", ")}`;
  const now = (opts.now ?? new Date()).getTime();
  const renewAt = new Date(cert.validTo).getTime() - (opts.renewBeforeMs ?? 30 * DAY_MS);
  if (now >= renewAt) return `tls.crt expires at ${new Date(cert.validTo).toISOString()}`;
  if (new Date(ca.validTo).getTime() - (opts.renewBeforeMs ?? 30 * DAY_MS) <= now)
    return "ca.crt expires soon";
  return undefined;
}
