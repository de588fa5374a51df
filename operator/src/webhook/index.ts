// The admission webhook: validating and defaulting SFPromptJobs with the zod schema of @sfprompt/api,
// served over HTTPS with a certificate from a folder or generated into a Secret (docs/adr).
export {
  startWebhookServer,
  createWebhookApp,
  VALIDATE_PATH,
  MUTATE_PATH,
  type WebhookServer,
  type WebhookServerOptions,
  type TlsFiles,
} from "./webhook-server.js";
export { validateJob, defaultJob } from "./admit.js";
export {
  readReview,
  AdmissionReviewError,
  ADMISSION_API_VERSION,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from "./admission-review.js";
export { defaultsPatch, pointerToken, type AddOperation } from "./json-patch.js";
export { immutableSpecPaths, immutableChanges } from "./immutable-fields.js";
export { startWebhook, type RunningWebhook } from "./run-webhook.js";
export {
  parseWebhookConfig,
  splitWebhookArgs,
  WEBHOOK_FLAGS,
  WEBHOOK_FLAG_TABLE,
  type WebhookConfig,
  type CertSource,
} from "./webhook-config.js";
export { patchCaBundles, type CaBundleTargets } from "./ca-bundle.js";
export { ensureCertSecret, bundleFromSecret, type CertSecretOptions } from "./certs/cert-secret.js";
export { readCertDir, type DirCerts } from "./certs/cert-dir.js";
export {
  generateWebhookCerts,
  certProblem,
  serviceHosts,
  type WebhookCertBundle,
  type GenerateOptions,
} from "./certs/webhook-certs.js";
export { issueCertificate, newKeyPair, type CertificateSpec, type IssuedCertificate } from "./certs/x509.js";
export { WebhookCertError } from "./errors.js";
