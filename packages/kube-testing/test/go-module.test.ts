// Files of a Go module through the proxy protocol: a module zip written by Python's zipfile as Go's
// archive/zip writes one (to a stream, so sizes and CRC-32 in data descriptors), served by a local HTTP
// server standing in as GOPROXY; checksum, cache and the errors a test meets.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { writeSelfSignedCert } from "../../sfprompt/test/archive/self-signed.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ZipFormatError } from "@sfprompt/core/zip";
import { GoModuleFetchError, goModuleCacheDir, goModuleFiles, goProxyUrl } from "../src/index.js";

const MODULE = "example.com/Owner/crds";
const VERSION = "v1.2.3";
const dir = mkdtempSync(join(tmpdir(), "go-module-test-"));

/**
 * A zip with a stored and a deflated entry (and one nobody asks for), written by Python's zipfile to a
 * pipe: unable to seek back, it puts sizes and CRC-32 in data descriptors, as Go's archive/zip does.
 */
function makeZip(version: string): Buffer {
  const py = [
    "import sys, zipfile",
    "z = zipfile.ZipFile(sys.stdout.buffer, 'w')",
    "z.writestr(sys.argv[1] + 'a/stored.yaml', 'kind: Stored\\n', compress_type=zipfile.ZIP_STORED)",
    "z.writestr(sys.argv[1] + 'a/deflated.yaml', 'kind: Deflated\\n' * 100, compress_type=zipfile.ZIP_DEFLATED)",
    "z.writestr(sys.argv[1] + 'go.mod', 'module x\\n')",
    "z.close()",
  ].join("\n");
  return execFileSync("python3", ["-c", py, `${MODULE}@${version}/`]);
}

const zip = makeZip(VERSION);
const sha = createHash("sha256").update(zip).digest("hex");
const files = ["a/stored.yaml", "a/deflated.yaml"];
/** The zip of v1.2.4 cut short: no end-of-central-directory record. */
const truncated = makeZip("v1.2.4").subarray(0, -30);
/** The zip of v1.2.5 with the first byte of a/stored.yaml (its first entry) flipped: CRC-32 wrong. */
const damaged = makeZip("v1.2.5");
damaged[30 + damaged.readUInt16LE(26) + damaged.readUInt16LE(28)]! ^= 0x01;
/** Zips the proxy serves, by version. */
const served: Record<string, Buffer> = { [VERSION]: zip, "v1.2.4": truncated, "v1.2.5": damaged };
const shaOf = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
let server: Server;
let proxy: string;
const requests: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const version = /^\/example\.com\/!owner\/crds\/@v\/(v[\d.]+)\.zip$/.exec(req.url ?? "")?.[1];
    const body = version === undefined ? undefined : served[version];
    if (body) res.end(body);
    else res.writeHead(404).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  proxy = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});
after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs fn with GOPROXY at the local server and the cache in a fresh folder. */
async function withProxy<T>(cache: string, fn: () => Promise<T>): Promise<T> {
  const saved = [process.env.GOPROXY, process.env.SFPROMPT_CACHE];
  process.env.GOPROXY = `${proxy},direct`;
  process.env.SFPROMPT_CACHE = join(dir, cache);
  try {
    return await fn();
  } finally {
    for (const [k, v] of [
      ["GOPROXY", saved[0]],
      ["SFPROMPT_CACHE", saved[1]],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("goProxyUrl", () => {
  const cases: { name: string; goproxy: string | undefined; url: string }[] = [
    { name: "unset is the public proxy", goproxy: undefined, url: "https://proxy.golang.org" },
    {
      name: "the first URL of a list",
      goproxy: "https://a.example/,https://b.example",
      url: "https://a.example",
    },
    { name: "a list with | too", goproxy: "https://a.example|direct", url: "https://a.example" },
    {
      name: "direct alone falls back to the public proxy",
      goproxy: "direct",
      url: "https://proxy.golang.org",
    },
    { name: "off falls back to the public proxy", goproxy: "off", url: "https://proxy.golang.org" },
  ];
  for (const c of cases) it(c.name, () => assert.equal(goProxyUrl({ GOPROXY: c.goproxy }), c.url));
});

describe("goModuleFiles", () => {
  it("is tested with a zip laid out as Go writes one: sizes in data descriptors (flag bit 3)", () => {
    assert.equal(zip.readUInt16LE(6) & 0x08, 0x08, "the fixture's first local header defers its sizes");
  });
  it("downloads once, checks the zip, and serves the files from the cache afterwards", async () => {
    await withProxy("c1", async () => {
      const first = await goModuleFiles({ module: MODULE, version: VERSION, files, zipSha256: sha });
      assert.equal(first.get("a/stored.yaml"), "kind: Stored\n");
      const before = requests.length;
      const again = await goModuleFiles({ module: MODULE, version: VERSION, files, zipSha256: sha });
      assert.deepEqual([...again], [...first]);
      assert.equal(requests.length, before, "the second call made no request");
      const cached = readFileSync(join(goModuleCacheDir(MODULE, VERSION), "a/deflated.yaml"), "utf8");
      assert.equal(cached, "kind: Deflated\n".repeat(100));
    });
  });
  const failures: {
    name: string;
    opts: { version?: string; files?: string[]; zipSha256?: string };
    says: RegExp;
    /** The ZipFormatError underneath, for a zip that cannot be read. */
    cause?: RegExp;
  }[] = [
    {
      name: "a zip whose checksum differs",
      opts: { zipSha256: "0".repeat(64) },
      says: /sha256 is [0-9a-f]{64}, expected 0{64}/,
    },
    { name: "a version the proxy does not serve", opts: { version: "v9.9.9" }, says: /HTTP 404/ },
    {
      name: "a file the module lacks",
      opts: { files: ["a/stored.yaml", "a/none.yaml"] },
      says: /the module has no file a\/none\.yaml/,
    },
    {
      name: "a zip cut short",
      opts: { version: "v1.2.4", zipSha256: shaOf(truncated) },
      says: /the zip could not be read/,
      cause: /no end-of-central-directory record/,
    },
    {
      name: "a zip whose entry fails its CRC-32",
      opts: { version: "v1.2.5", zipSha256: shaOf(damaged) },
      says: /the zip could not be read/,
      cause:
        /entry example\.com\/Owner\/crds@v1\.2\.5\/a\/stored\.yaml: CRC-32 [0-9a-f]{8} is not the recorded/,
    },
  ];
  for (const [i, f] of failures.entries()) {
    it(`fails on ${f.name}, naming the module and the URL, and caches nothing`, async () => {
      await withProxy(`fail-${i}`, async () => {
        const o = { module: MODULE, version: VERSION, files, zipSha256: sha, ...f.opts };
        await assert.rejects(goModuleFiles(o), (err: unknown) => {
          assert.ok(err instanceof GoModuleFetchError);
          assert.match(err.message, f.says);
          if (f.cause) {
            assert.ok(err.cause instanceof ZipFormatError, String(err.cause));
            assert.match(err.cause.message, f.cause);
          } else assert.equal(err.cause, undefined);
          assert.match(
            err.message,
            new RegExp(`${MODULE}@${o.version} from the Go module proxy \\(${proxy}/`),
          );
          return true;
        });
        assert.throws(() => readFileSync(join(goModuleCacheDir(MODULE, o.version), o.files[0]!)), /ENOENT/);
      });
    });
  }

  describe("over HTTPS behind a certificate Node's own roots do not hold", () => {
    // a GOPROXY whose certificate only the machine's CA store holds, as behind a TLS-intercepting proxy
    // whose CA is installed there (curl and go trust it; Node's fetch did not)
    const certDir = join(dir, "tls");
    let tls: ReturnType<typeof createHttpsServer>;
    let httpsProxy = "";
    before(async () => {
      mkdirSync(certDir, { recursive: true });
      writeSelfSignedCert(certDir);
      tls = createHttpsServer(
        { key: readFileSync(join(certDir, "key.pem")), cert: readFileSync(join(certDir, "cert.pem")) },
        (req, res) => {
          if (req.url === "/example.com/!owner/crds/@v/v1.2.3.zip") res.end(zip);
          else res.writeHead(404).end("not found");
        },
      );
      await new Promise<void>((ok) => tls.listen(0, "127.0.0.1", ok));
      httpsProxy = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((ok) => tls.close(ok));
    });

    it("trusts it when the system bundle (SSL_CERT_FILE) holds it, in a process started without NODE_EXTRA_CA_CERTS", async () => {
      const script =
        'import { goModuleFiles } from "@sfprompt/kube-testing";' +
        `const f = await goModuleFiles({ module: ${JSON.stringify(MODULE)}, version: ${JSON.stringify(VERSION)}, ` +
        `files: ${JSON.stringify(files)}, zipSha256: ${JSON.stringify(sha)} });` +
        'console.log(f.get("a/stored.yaml"));';
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        SSL_CERT_FILE: join(certDir, "cert.pem"),
        GOPROXY: httpsProxy,
        SFPROMPT_CACHE: join(dir, "https-trusted"),
      };
      delete env.NODE_EXTRA_CA_CERTS;
      const out = await new Promise<string>((ok, fail) =>
        execFile(
          process.execPath,
          ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
          { env, cwd: fileURLToPath(new URL("..", import.meta.url)) },
          (err, stdout, stderr) => (err ? fail(new Error(stderr || String(err))) : ok(stdout)),
        ),
      );
      assert.equal(out, "kind: Stored\n\n");
    });

    it("says the certificate is not trusted and what to do when no bundle holds it", async () => {
      await withProxy("https-untrusted", async () => {
        process.env.GOPROXY = httpsProxy;
        await assert.rejects(
          goModuleFiles({ module: MODULE, version: VERSION, files, zipSha256: sha }),
          (err: unknown) =>
            err instanceof GoModuleFetchError &&
            /the request failed: DEPTH_ZERO_SELF_SIGNED_CERT \(the server's certificate is not trusted/.test(
              err.message,
            ) &&
            err.message.includes("NODE_EXTRA_CA_CERTS"),
        );
      });
    });
  });
});
