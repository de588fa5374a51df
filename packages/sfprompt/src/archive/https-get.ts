// GET over HTTP(S) with node:https, trusting what the machine trusts: Node's own roots, the file in
// NODE_EXTRA_CA_CERTS, and the operating system's CA bundle ($SSL_CERT_FILE, else the usual Debian /
// RHEL / Alpine paths), as curl and pip do. A site whose TLS-intercepting proxy's CA is installed in
// the system store then needs no Node-specific setting. Redirects followed; bodies decoded.
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { rootCertificates } from "node:tls";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/cert.pem",
];

/** The CA certificates an HTTPS request trusts (PEM texts). */
export function trustedCas(env: NodeJS.ProcessEnv = process.env): string[] {
  const files = [env.NODE_EXTRA_CA_CERTS, env.SSL_CERT_FILE || SYSTEM_BUNDLES.find((f) => existsSync(f))];
  const pems: string[] = [];
  for (const f of files) {
    if (!f) continue;
    try {
      pems.push(readFileSync(f, "utf8"));
    } catch {
      // an unreadable bundle adds nothing; Node's roots remain
    }
  }
  return [...rootCertificates, ...pems];
}

let cas: string[] | undefined;

export interface HttpResponse {
  readonly status: number;
  /** The body, decoded when the server compressed it. */
  readonly body: Readable;
  /** Content-Length of the decoded body, when the server sent one for an uncompressed body. */
  readonly length: number | undefined;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

/** GETs `url`, following up to 5 redirects; rejects with the socket's or TLS's error (its `code` kept). */
export async function httpGet(
  url: URL,
  o: { readonly signal?: AbortSignal; readonly headers?: Record<string, string> } = {},
  redirects = 5,
): Promise<HttpResponse> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const options = { headers: o.headers ?? {}, ...(o.signal ? { signal: o.signal } : {}) };
    const req =
      url.protocol === "https:"
        ? httpsRequest(url, { ...options, ca: (cas ??= trustedCas()) }, resolve)
        : httpRequest(url, options, resolve);
    req.on("error", reject);
    req.end();
  });
  const status = res.statusCode ?? 0;
  const location = res.headers.location;
  if (status >= 300 && status < 400 && location !== undefined && redirects > 0) {
    res.resume();
    return httpGet(new URL(location, url), o, redirects - 1);
  }
  const encoding = res.headers["content-encoding"];
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? createGunzip()
      : encoding === "deflate"
        ? createInflate()
        : encoding === "br"
          ? createBrotliDecompress()
          : undefined;
  const length = decoder === undefined ? Number(res.headers["content-length"]) || undefined : undefined;
  if (decoder !== undefined) res.on("error", (e) => decoder.destroy(e));
  return { status, body: decoder === undefined ? res : res.pipe(decoder), length, url };
}

/** The whole body as text. */
export async function bodyText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
