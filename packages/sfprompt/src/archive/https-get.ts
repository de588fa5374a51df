// GET over HTTP(S) with node:https, trusting what the machine trusts: Node's own roots, the file in
// NODE_EXTRA_CA_CERTS, and the operating system's CA bundle ($SSL_CERT_FILE, else the usual Debian /
// RHEL / Alpine paths), as curl and pip do. A site whose TLS-intercepting proxy's CA is installed in
// the system store then needs no Node-specific setting. Through the proxy that HTTPS_PROXY /
// HTTP_PROXY name (NO_PROXY honoured), as curl and pip do: CONNECT tunnels for https, absolute-form
// requests for http. Redirects followed; bodies decoded.
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { connect as tlsConnect, rootCertificates } from "node:tls";
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

/** A proxy setting that cannot be used, or a proxy that refused the request. */
export class ProxyError extends Error {
  override readonly name = "ProxyError";
}

/** A NO_PROXY entry's host (leading `.` or `*.` dropped) and port: `[v6]:port`, `host:port`, `host`, bare v6. */
function splitEntry(entry: string): { name: string; entryPort: string | undefined } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { name: v6[1]!, entryPort: v6[2] };
  const colons = entry.split(":").length - 1;
  const [host, port] = colons === 1 ? entry.split(":") : [entry, undefined];
  return { name: host!.replace(/^\*?\./, ""), entryPort: port };
}

/** True when NO_PROXY's list (comma or space separated: `*`, host, `.domain`, `*.domain`, `host:port`) covers `url`. */
export function noProxyCovers(url: URL, list: string): boolean {
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of list.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    const { name, entryPort } = splitEntry(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The proxy for `url`: HTTPS_PROXY (https) or HTTP_PROXY (http), either case, unless NO_PROXY covers it. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const name = url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY";
  const raw = env[name] || env[name.toLowerCase()];
  if (!raw) return undefined;
  if (noProxyCovers(url, env.NO_PROXY || env.no_proxy || "")) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch (cause) {
    throw new ProxyError(`${name}="${raw}" is not a URL: give it as http://host:port`, { cause });
  }
  if (proxy.protocol !== "http:")
    throw new ProxyError(`${name}="${raw}": only http:// proxies are supported (TLS to the proxy is not)`);
  return proxy;
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (proxy.username === "") return {};
  const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(user).toString("base64")}` };
}

const proxyName = (proxy: URL): string => `${proxy.protocol}//${proxy.host}`;
const WANTS_CREDENTIALS = ": it wants credentials (http://user:password@host:port)";

/** A socket to `target`'s host and port through `proxy`'s CONNECT tunnel. */
function tunnel(proxy: URL, target: URL, signal?: AbortSignal): Promise<Socket> {
  const authority = `${target.hostname}:${target.port || "443"}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: "CONNECT",
      path: authority,
      headers: { host: authority, ...proxyAuth(proxy) },
      ...(signal ? { signal } : {}),
    });
    req.on("connect", (res, socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(
        new ProxyError(
          `proxy ${proxyName(proxy)} answered CONNECT ${authority} with HTTP ${res.statusCode ?? 0}` +
            (res.statusCode === 407 ? WANTS_CREDENTIALS : ""),
        ),
      );
    });
    req.on("error", (e) =>
      reject(new ProxyError(`proxy ${proxyName(proxy)} could not be reached: ${e.message}`, { cause: e })),
    );
    req.end();
  });
}

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
  const proxy = proxyFor(url);
  const socket =
    proxy !== undefined && url.protocol === "https:" ? await tunnel(proxy, url, o.signal) : undefined;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const options = { headers: o.headers ?? {}, ...(o.signal ? { signal: o.signal } : {}) };
    let req;
    if (url.protocol === "https:") {
      const ca = (cas ??= trustedCas());
      const tls =
        socket === undefined
          ? {}
          : {
              createConnection: () => {
                const host = url.hostname.replace(/^\[|\]$/g, "");
                // SNI takes names only, not addresses
                return tlsConnect({ socket, ca, host, ...(isIP(host) ? {} : { servername: host }) });
              },
            };
      req = httpsRequest(url, { ...options, ca, ...tls }, resolve);
    } else if (proxy !== undefined) {
      // absolute-form request line, as a plain-HTTP proxy expects
      req = httpRequest(
        {
          host: proxy.hostname,
          port: proxy.port || 80,
          path: url.href,
          ...options,
          headers: { ...options.headers, host: url.host, ...proxyAuth(proxy) },
        },
        resolve,
      );
    } else req = httpRequest(url, options, resolve);
    req.on("error", reject);
    req.end();
  });
  if (proxy !== undefined && url.protocol === "http:" && res.statusCode === 407) {
    res.resume();
    throw new ProxyError(`proxy ${proxyName(proxy)} answered HTTP 407${WANTS_CREDENTIALS}`);
  }
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

/** TLS failures that mean "this certificate chain is not trusted", as Node's TLS names them. */
const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

/**
 * Why a request failed, for a message: "timed out", the socket's or TLS's code (an untrusted chain
 * with what to do about it), else the error's message.
 */
export function describeRequestError(cause: unknown): string {
  const e = cause as Error & { code?: string; cause?: { name?: string; code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.cause?.name === "TimeoutError") return "timed out";
  const code = e.code ?? e.cause?.code;
  if (code !== undefined && UNTRUSTED.has(code))
    return (
      `${code} (the server's certificate is not trusted; behind a TLS-intercepting proxy, install its CA ` +
      "in the system's store or name it with NODE_EXTRA_CA_CERTS=/path/to/ca.pem)"
    );
  return code ?? e.cause?.message ?? e.message ?? String(cause);
}
