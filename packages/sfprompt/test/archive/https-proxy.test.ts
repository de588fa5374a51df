// The wheel downloader through a proxy named by HTTPS_PROXY / HTTP_PROXY, as curl and pip use one:
// against a real proxy on loopback (CONNECT tunnels for https, absolute-form requests for http,
// Proxy-Authorization checked), real HTTP and HTTPS servers behind it, NO_PROXY honoured; and the
// settings' parsing case by case.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSelfSignedCert } from "./self-signed.js";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { bodyText, httpGet, noProxyCovers, ProxyError, proxyFor } from "@sfprompt/core";

const AUTH = `Basic ${Buffer.from("sf:p@ss word").toString("base64")}`;
let dir = "";
let target: Server;
let tls: HttpsServer;
let proxy: Server;
let targetPort = 0;
let tlsPort = 0;
let proxyPort = 0;
/** What the proxy was asked: "CONNECT host:port" or "GET absolute-url", with the auth header seen. */
let seen: Array<{ line: string; auth: string | undefined }> = [];
let requireAuth = false;

const port = (s: Server | HttpsServer): number => (s.address() as AddressInfo).port;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sfp-proxy-"));
  writeSelfSignedCert(dir);
  target = createServer((req, res) => res.end(`plain ${req.url}`));
  tls = createHttpsServer(
    { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
    (req, res) => res.end(`tls ${req.url}`),
  );
  proxy = createServer((req, res) => {
    seen.push({ line: `${req.method} ${req.url}`, auth: req.headers["proxy-authorization"] });
    if (requireAuth && req.headers["proxy-authorization"] !== AUTH) return res.writeHead(407).end();
    const up = request(req.url!, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  proxy.on("connect", (req, socket) => {
    seen.push({ line: `CONNECT ${req.url}`, auth: req.headers["proxy-authorization"] });
    if (requireAuth && req.headers["proxy-authorization"] !== AUTH) {
      socket.end("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
      return;
    }
    const [host, p] = req.url!.split(":");
    const up = connect(Number(p), host!, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on("error", () => socket.destroy());
  });
  for (const s of [target, tls, proxy]) await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  [targetPort, tlsPort, proxyPort] = [port(target), port(tls), port(proxy)];
});
after(async () => {
  for (const s of [target, tls, proxy]) await new Promise((ok) => s.close(ok));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
  requireAuth = false;
});

/** Runs httpGet(url) in a child process with `env` (the proxy settings and the trusted CA) and prints the body. */
function childGet(url: string, env: NodeJS.ProcessEnv): Promise<string> {
  const script =
    'import { bodyText, httpGet } from "@sfprompt/core";' +
    `const r = await httpGet(new URL(${JSON.stringify(url)}));` +
    "console.log(r.status, await bodyText(r.body));";
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SSL_CERT_FILE: join(dir, "cert.pem"), ...env };
  delete childEnv.NODE_EXTRA_CA_CERTS;
  return new Promise((ok, fail) =>
    execFile(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
      { env: childEnv, cwd: fileURLToPath(new URL("..", import.meta.url)) },
      (err, stdout, stderr) => (err ? fail(new Error(stderr || String(err))) : ok(stdout.trim())),
    ),
  );
}

/** Sets proxy variables for one in-process call, restoring them after. */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const names = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const n of names) delete process.env[n];
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  }
}

describe("requests through a proxy", () => {
  it("https goes through a CONNECT tunnel with the proxy's credentials, and TLS is still checked end to end", async () => {
    requireAuth = true;
    const out = await childGet(`https://127.0.0.1:${tlsPort}/simple/x/`, {
      HTTPS_PROXY: `http://sf:p%40ss%20word@127.0.0.1:${proxyPort}`,
    });
    assert.equal(out, "200 tls /simple/x/");
    assert.deepEqual(seen, [{ line: `CONNECT 127.0.0.1:${tlsPort}`, auth: AUTH }]);
  });

  it("http goes to the proxy as an absolute-form request", async () => {
    const url = `http://127.0.0.1:${targetPort}/files/a.whl`;
    const body = await withEnv({ http_proxy: `127.0.0.1:${proxyPort}` }, async () =>
      bodyText((await httpGet(new URL(url))).body),
    );
    assert.equal(body, "plain /files/a.whl");
    assert.deepEqual(seen, [{ line: `GET ${url}`, auth: undefined }]);
  });

  it("a proxy that wants credentials is named, with the 407 and what to give it", async () => {
    requireAuth = true;
    await withEnv({ HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` }, () =>
      assert.rejects(
        httpGet(new URL(`https://127.0.0.1:${tlsPort}/`)),
        (e: unknown) =>
          e instanceof ProxyError &&
          e.message ===
            `proxy http://127.0.0.1:${proxyPort} answered CONNECT 127.0.0.1:${tlsPort} with HTTP 407: it wants credentials (http://user:password@host:port)`,
      ),
    );
    await withEnv({ HTTP_PROXY: `http://127.0.0.1:${proxyPort}` }, () =>
      assert.rejects(
        httpGet(new URL(`http://127.0.0.1:${targetPort}/`)),
        (e: unknown) =>
          e instanceof ProxyError && e.message.includes("answered HTTP 407: it wants credentials"),
      ),
    );
  });

  it("a proxy that cannot be reached is named as the proxy", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const gone = port(closed);
    await new Promise((ok) => closed.close(ok));
    await withEnv({ HTTPS_PROXY: `http://127.0.0.1:${gone}` }, () =>
      assert.rejects(
        httpGet(new URL(`https://127.0.0.1:${tlsPort}/`)),
        (e: unknown) =>
          e instanceof ProxyError &&
          e.message.startsWith(`proxy http://127.0.0.1:${gone} could not be reached: connect ECONNREFUSED`),
      ),
    );
  });

  it("NO_PROXY sends a covered host direct: the proxy sees nothing", async () => {
    const body = await withEnv(
      { HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: "example.org, 127.0.0.1" },
      async () => bodyText((await httpGet(new URL(`http://127.0.0.1:${targetPort}/direct`))).body),
    );
    assert.equal(body, "plain /direct");
    assert.deepEqual(seen, []);
  });
});

describe("proxy settings", () => {
  const u = (s: string): URL => new URL(s);

  it("HTTPS_PROXY for https, HTTP_PROXY for http, upper case first, a bare host:port taken as http://", () => {
    const env = { HTTPS_PROXY: "http://a:1", https_proxy: "http://b:2", http_proxy: "c:3" };
    assert.equal(proxyFor(u("https://pypi.org/simple"), env)?.href, "http://a:1/");
    assert.equal(proxyFor(u("https://pypi.org/simple"), { https_proxy: "http://b:2" })?.href, "http://b:2/");
    assert.equal(proxyFor(u("http://mirror.local/simple"), env)?.href, "http://c:3/");
    assert.equal(proxyFor(u("http://mirror.local/simple"), { HTTPS_PROXY: "http://a:1" }), undefined);
    assert.equal(proxyFor(u("https://pypi.org/"), {}), undefined);
  });

  it("NO_PROXY: *, exact hosts, domains with . or *., host:port, [v6]:port", () => {
    const cases: Array<[string, string, boolean]> = [
      ["https://pypi.org/", "*", true],
      ["https://pypi.org/", "pypi.org", true],
      ["https://files.pythonhosted.org/", ".pythonhosted.org", true],
      ["https://files.pythonhosted.org/", "*.pythonhosted.org", true],
      ["https://files.pythonhosted.org/", "pythonhosted.org", true],
      ["https://notpythonhosted.org/", "pythonhosted.org", false],
      ["https://pypi.org/", "pypi.org:443", true],
      ["https://pypi.org/", "pypi.org:8443", false],
      ["http://mirror.local:8080/", "mirror.local:8080", true],
      ["https://pypi.org/", "example.org localhost", false],
      ["http://[::1]:8080/", "[::1]:8080", true],
      ["http://[::1]:8080/", "::1", true],
      ["https://PyPI.org/", "pypi.ORG", true],
      ["https://pypi.org/", "", false],
    ];
    for (const [url, list, covered] of cases)
      assert.equal(noProxyCovers(u(url), list), covered, `${url} / "${list}"`);
    assert.equal(
      proxyFor(u("https://pypi.org/"), { HTTPS_PROXY: "http://p:1", no_proxy: "pypi.org" }),
      undefined,
    );
  });

  it("a proxy that is not a URL, or not http://, is refused naming the variable", () => {
    assert.throws(
      () => proxyFor(u("https://pypi.org/"), { HTTPS_PROXY: "http://[bad" }),
      (e: unknown) =>
        e instanceof ProxyError && e.message.startsWith('HTTPS_PROXY="http://[bad" is not a URL'),
    );
    assert.throws(
      () => proxyFor(u("https://pypi.org/"), { HTTPS_PROXY: "https://proxy:443" }),
      (e: unknown) => e instanceof ProxyError && e.message.includes("only http:// proxies are supported"),
    );
  });
});
