// Errors of the admission webhook's setup: certificates that cannot be obtained or used.

/** The webhook's certificate could not be read, generated or stored; the message says where. */
export class WebhookCertError extends Error {
  override readonly name = "WebhookCertError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
