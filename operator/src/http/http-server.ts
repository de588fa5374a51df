// The operator's plain-HTTP endpoints: /healthz (the process works), /readyz (it can do its job),
// /metrics (Prometheus). The admission webhook will be a second app on its own TLS port; `extend`
// lets the caller add routes here too.
import express, { type Express } from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HttpEndpoints {
  healthy: () => boolean;
  ready: () => { ok: boolean; reason: string };
  metrics: () => string;
  extend?: (app: Express) => void;
}

export function createHttpApp(e: HttpEndpoints): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res
      .status(e.healthy() ? 200 : 500)
      .type("text/plain")
      .send(e.healthy() ? "ok" : "unhealthy");
  });
  app.get("/readyz", (_req, res) => {
    const r = e.ready();
    res
      .status(r.ok ? 200 : 503)
      .type("text/plain")
      .send(r.reason);
  });
  app.get("/metrics", (_req, res) => {
    res.type("text/plain; version=0.0.4").send(e.metrics());
  });
  e.extend?.(app);
  return app;
}

export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port (0 picks a free port) and resolves once bound. */
export function listen(app: Express, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server: Server = app.listen(port, host, (err?: Error) => {
      if (err) return reject(err);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}
