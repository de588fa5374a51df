// /healthz (the process is up), /readyz (connected to NATS and the runtime ready) and /metrics
// (Prometheus text) over express, on the port the operator's probes use.
import type { Server } from "node:http";
import express from "express";
import { HttpListenError } from "./errors.js";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.js";

export interface Readiness {
  /** Why the process is not ready, or undefined when it is. */
  notReadyReason(): string | undefined;
}

export interface HttpEndpoints {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly readiness: Readiness;
  /** The /metrics body; may refresh values first. */
  readonly metrics: () => Promise<string>;
}

/** Starts listening; resolves with the bound port (useful with port 0). */
export async function startHttp(o: HttpOptions): Promise<HttpEndpoints> {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });
  app.get("/readyz", (_req, res) => {
    const reason = o.readiness.notReadyReason();
    if (reason === undefined) res.type("text/plain").send("ready\n");
    else res.status(503).type("text/plain").send(`not ready: ${reason}\n`);
  });
  app.get("/metrics", (_req, res, next) => {
    o.metrics().then((body) => res.type(PROMETHEUS_CONTENT_TYPE).send(body), next);
  });
  const server = await listen(app, o.host, o.port);
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : o.port;
  return {
    port,
    address: `${o.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once("listening", () => resolve(server));
    server.once("error", (cause: Error) =>
      reject(
        new HttpListenError(`${host}:${port}`, `cannot listen: ${cause.message}; pick another --http-port`, {
          cause,
        }),
      ),
    );
  });
}
