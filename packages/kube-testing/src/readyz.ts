// One /readyz probe: of the API server with the admin client certificate, or of kube-scheduler's
// self-signed endpoint (loopback only, /readyz is open to anonymous callers there).
import { request } from "node:https";
import { readFileSync } from "node:fs";

export interface ReadyzProbe {
  ready: boolean;
  /** The status line or error of the probe, for error messages. */
  detail: string;
}

export interface ClientTls {
  caCert: string;
  adminCert: string;
  adminKey: string;
}

/** GETs `${url}/readyz`, verifying the server against `tls.caCert` unless tls is undefined; never throws. */
export function probeReadyz(url: string, tls: ClientTls | undefined, timeoutMs = 2000): Promise<ReadyzProbe> {
  return new Promise((resolve) => {
    const auth = tls
      ? { ca: readFileSync(tls.caCert), cert: readFileSync(tls.adminCert), key: readFileSync(tls.adminKey) }
      : { rejectUnauthorized: false };
    const req = request(`${url}/readyz`, { ...auth, timeout: timeoutMs });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () =>
        resolve({
          ready: res.statusCode === 200,
          detail: `HTTP ${res.statusCode}: ${body.trim().slice(-300)}`,
        }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) => resolve({ ready: false, detail: err.message }));
    req.end();
  });
}
