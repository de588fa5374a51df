// The admission webhook's HTTPS server: /validate-sfpromptjob and /mutate-sfpromptjob speak
// AdmissionReview; anything that is not one gets a 400 with the reason, never a crash.
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.js";
import { AdmissionReviewError, readReview, review, type AdmissionResponse } from "./admission-review.js";
import { defaultJob, validateJob } from "./admit.js";
import type { AdmissionRequest } from "./admission-review.js";

export const VALIDATE_PATH = "/validate-sfpromptjob";
export const MUTATE_PATH = "/mutate-sfpromptjob";

export interface TlsFiles {
  /** PEM serving certificate (chain). */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface WebhookServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default: every interface (the API server reaches it through a Service). */
  host?: string;
  tls: TlsFiles;
  log?: Logger;
  /** /readyz answers 200 while this returns true (default: always). */
  ready?: () => boolean;
}

export interface WebhookServer {
  port: number;
  /** Serves new connections with another certificate (rotation) without a restart. */
  setTls(tls: TlsFiles): void;
  close(): Promise<void>;
}

type Decide = (req: AdmissionRequest) => AdmissionResponse;

function handler(decide: Decide, what: string, log?: Logger) {
  return (req: Request, res: Response): void => {
    let request: AdmissionRequest;
    try {
      request = readReview(req.body);
    } catch (err) {
      if (!(err instanceof AdmissionReviewError)) throw err;
      res.status(400).json({ error: err.message });
      return;
    }
    const response = decide(request);
    log?.debug(`${what} decision`, {
      uid: request.uid,
      operation: request.operation,
      namespace: request.namespace,
      job: request.name,
      allowed: response.allowed,
      ...(response.status ? { message: response.status.message } : {}),
    });
    res.json(review(response));
  };
}

/** The webhook's routes, for mounting into any express app (tests, another server). */
export function createWebhookApp(log?: Logger, ready: () => boolean = () => true): Express {
  const app = express();
  app.disable("x-powered-by");
  // The API server caps request bodies at 3 MiB; any content type is read as JSON so that a wrong
  // header still gets a 400 that says why.
  app.use(express.json({ limit: "4mb", type: () => true }));
  app.post(VALIDATE_PATH, handler(validateJob, "validate", log));
  app.post(MUTATE_PATH, handler(defaultJob, "mutate", log));
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  // The chart's startup probe: ready once the API server can trust this certificate (caBundle set).
  app.get("/readyz", (_req, res) => {
    const ok = ready();
    res
      .status(ok ? 200 : 503)
      .type("text/plain")
      .send(ok ? "ok" : "caBundle not patched yet");
  });
  app.use((_req: Request, res: Response) => {
    res
      .status(404)
      .json({ error: `not found; POST an AdmissionReview to ${VALIDATE_PATH} or ${MUTATE_PATH}` });
  });
  // express's body parser reports malformed JSON here; anything else is our bug, logged and a 500.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status;
    if (status !== undefined && status >= 400 && status < 500) {
      res.status(status).json({ error: `request body is not an AdmissionReview: ${(err as Error).message}` });
      return;
    }
    log?.error("webhook handler failed", { err });
    res.status(500).json({ error: "internal error" });
  });
  return app;
}

/** Starts the HTTPS server and resolves once it listens. */
export function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const server: Server = createServer(
    { cert: opts.tls.cert, key: opts.tls.key },
    createWebhookApp(opts.log, opts.ready),
  );
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        setTls: (tls) => server.setSecureContext({ cert: tls.cert, key: tls.key }),
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
