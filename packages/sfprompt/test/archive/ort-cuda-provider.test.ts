// ONNX Runtime's CUDA provider from PyPI's onnxruntime-gpu wheel (ADR 0033): against a real HTTP
// server playing the index and a wheel written by Python's zipfile, the two libraries land beside
// libonnxruntime.so.1 byte for byte and nothing else does; the cache is reused without a request;
// unsupported platforms and unpinned versions are refused by name. Then the real pypi.org lists the
// pin of the onnxruntime-node version this repository installs, with the pinned sha256.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  findWheel,
  installOrtCudaProvider,
  ORT_CUDA_PROVIDER_FILES,
  ORT_CUDA_WHEELS,
  OrtCudaProviderError,
  type OrtCudaWheel,
} from "@sfprompt/core";

const FILE = "onnxruntime_gpu-9.9.9-cp312-cp312-manylinux_2_28_x86_64.whl";
const CUDA_SO = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131 + 17) % 256));
const SHARED_SO = Buffer.from("shared provider bridge ".repeat(100));

let dir = "";
let server: Server;
let base = "";
let fileRequests = 0;
let wheel: OrtCudaWheel;

/** A fake onnxruntime-node package folder at `version`, with its linux/x64 runtime file. */
function ortPackage(name: string, version: string): string {
  const pkg = join(dir, name, "onnxruntime-node");
  mkdirSync(join(pkg, "bin/napi-v6/linux/x64"), { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "onnxruntime-node", version }));
  writeFileSync(join(pkg, "bin/napi-v6/linux/x64/libonnxruntime.so.1"), "runtime");
  return pkg;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "sfp-ort-cuda-"));
  const whl = join(dir, FILE);
  const entries = {
    "onnxruntime/capi/libonnxruntime_providers_cuda.so": [...CUDA_SO],
    "onnxruntime/capi/libonnxruntime_providers_shared.so": [...SHARED_SO],
    "onnxruntime/capi/libonnxruntime_providers_tensorrt.so": [1, 2, 3],
    "onnxruntime/__init__.py": [...Buffer.from("# python")],
  };
  execFileSync(
    "python3",
    [
      "-c",
      `import sys, json, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in json.load(sys.stdin).items():
        z.writestr(name, bytes(data))`,
      whl,
    ],
    { input: JSON.stringify(entries) },
  );
  const bytes = readFileSync(whl);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  wheel = { project: "onnxruntime-gpu", file: FILE, sha256, cuda: 13, cudnn: 9 };
  server = createServer((req, res) => {
    if (req.url === "/simple/onnxruntime-gpu/") {
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(`<html><body><a href="../../files/${FILE}#sha256=${sha256}">${FILE}</a></body></html>`);
    } else if (req.url === `/files/${FILE}`) {
      fileRequests++;
      res.writeHead(200, { "content-length": String(bytes.length) }).end(bytes);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple`;
});
after(async () => {
  await new Promise((ok) => server.close(ok));
  rmSync(dir, { recursive: true, force: true });
});

describe("the CUDA provider from an onnxruntime-gpu wheel", () => {
  it("puts exactly the two provider libraries beside libonnxruntime.so.1, byte for byte, and deletes the wheel", async () => {
    const pkg = ortPackage("plain", "9.9.9");
    fileRequests = 0;
    const r = await installOrtCudaProvider({
      ortPackageDir: pkg,
      wheel,
      indexUrl: base,
      platform: "linux",
      arch: "x64",
    });
    const bin = join(pkg, "bin/napi-v6/linux/x64");
    assert.equal(r.binDir, bin);
    assert.equal(r.version, "9.9.9");
    assert.equal(r.cached, false);
    assert.deepEqual(readFileSync(join(bin, "libonnxruntime_providers_cuda.so")), CUDA_SO);
    assert.deepEqual(readFileSync(join(bin, "libonnxruntime_providers_shared.so")), SHARED_SO);
    assert.deepEqual(readdirSync(bin).sort(), [
      "libonnxruntime.so.1",
      "libonnxruntime_providers_cuda.so",
      "libonnxruntime_providers_shared.so",
    ]);
    assert.equal(fileRequests, 1);
  });

  it("keeps the wheel in the cache folder and reuses it without asking the index again", async () => {
    const cache = join(dir, "wheels");
    fileRequests = 0;
    const first = await installOrtCudaProvider({
      ortPackageDir: ortPackage("cached-1", "9.9.9"),
      wheel,
      indexUrl: base,
      wheelCacheDir: cache,
      platform: "linux",
      arch: "x64",
    });
    const pkg = ortPackage("cached-2", "9.9.9");
    const second = await installOrtCudaProvider({
      ortPackageDir: pkg,
      wheel,
      indexUrl: `${base.replace(/\/simple$/, "")}/nothing-here`,
      wheelCacheDir: cache,
      platform: "linux",
      arch: "x64",
    });
    assert.deepEqual([first.cached, second.cached, fileRequests], [false, true, 1]);
    assert.ok(existsSync(join(cache, FILE)));
    assert.deepEqual(
      readFileSync(join(pkg, "bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so")),
      CUDA_SO,
    );
  });

  it("refuses other platforms, unpinned versions and a package without its linux/x64 runtime, by name", async () => {
    const pkg = ortPackage("refusals", "9.9.9");
    await assert.rejects(
      installOrtCudaProvider({ ortPackageDir: pkg, wheel, indexUrl: base, platform: "linux", arch: "arm64" }),
      (e: unknown) =>
        e instanceof OrtCudaProviderError && /linux\/x64 only, not linux\/arm64/.test(e.message),
    );
    await assert.rejects(
      installOrtCudaProvider({
        ortPackageDir: ortPackage("unpinned", "0.0.1"),
        indexUrl: base,
        platform: "linux",
        arch: "x64",
      }),
      (e: unknown) =>
        e instanceof OrtCudaProviderError &&
        e.message.includes("onnxruntime-node 0.0.1 has no pinned onnxruntime-gpu wheel") &&
        e.message.includes("ORT_CUDA_WHEELS"),
    );
    const pruned = ortPackage("pruned", "9.9.9");
    rmSync(join(pruned, "bin/napi-v6/linux/x64/libonnxruntime.so.1"));
    await assert.rejects(
      installOrtCudaProvider({
        ortPackageDir: pruned,
        wheel,
        indexUrl: base,
        platform: "linux",
        arch: "x64",
      }),
      (e: unknown) => e instanceof OrtCudaProviderError && e.message.includes("holds no libonnxruntime.so.1"),
    );
    assert.deepEqual(
      ORT_CUDA_PROVIDER_FILES.map((f) => existsSync(join(pkg, "bin/napi-v6/linux/x64", f))),
      [false, false],
    );
  });

  it("images/ort-cuda-from-pypi.mjs installs into an app folder (a pin given by hand) and refuses an unpinned version", async () => {
    // an app folder as the image's deps stage has it: this repository's built @sfprompt/core (linked,
    // so that its own dependencies resolve) and an onnxruntime-node folder at the version the fake
    // index serves
    const app = join(dir, "app");
    const pkg = ortPackage("app/node_modules", "9.9.9");
    const core = join(dirname(createRequire(import.meta.url).resolve("@sfprompt/core")), "..");
    mkdirSync(join(app, "packages"), { recursive: true });
    symlinkSync(core, join(app, "packages/sfprompt"));
    const script = fileURLToPath(new URL("../../../../images/ort-cuda-from-pypi.mjs", import.meta.url));
    // asynchronously: this process serves the index the child reads
    const run = (...extra: string[]): Promise<{ code: number; out: string; err: string }> =>
      new Promise((done) => {
        const child = spawn("node", [script, app, ...extra], {
          env: { ...process.env, SFPROMPT_PYPI_INDEX: base },
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("close", (code) => done({ code: code ?? -1, out, err }));
      });
    const refused = await run();
    assert.equal(refused.code, 1);
    assert.match(
      refused.err,
      /^ort-cuda-from-pypi: onnxruntime-node 9\.9\.9 has no pinned onnxruntime-gpu wheel/,
    );
    assert.equal(existsSync(join(pkg, "bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so")), false);
    const ok = await run("--wheel", FILE, "--sha256", wheel.sha256);
    assert.equal(ok.code, 0, ok.err);
    assert.match(
      ok.out,
      /^ONNX Runtime CUDA provider for onnxruntime-node 9\.9\.9 from onnxruntime_gpu-9\.9\.9-/,
    );
    assert.ok(ok.out.includes(join(pkg, "bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so")), ok.out);
    assert.deepEqual(
      readFileSync(join(pkg, "bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so")),
      CUDA_SO,
    );
    const half = await run("--wheel", FILE);
    assert.equal(half.code, 2);
    assert.match(half.err, /--wheel and --sha256 go together/);
  });
});

describe("the pinned onnxruntime-gpu wheel on the real pypi.org", () => {
  it("is pinned for the onnxruntime-node version installed here, and pypi.org lists it with that sha256", async () => {
    const ortDir = dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
    const version = (JSON.parse(readFileSync(join(ortDir, "package.json"), "utf8")) as { version: string })
      .version;
    const pin = ORT_CUDA_WHEELS[version];
    assert.ok(pin, `ORT_CUDA_WHEELS has no pin for onnxruntime-node ${version}`);
    const url = await findWheel(pin, { indexUrl: "https://pypi.org/simple" });
    assert.equal(url.hostname, "files.pythonhosted.org");
    assert.ok(url.pathname.endsWith(`/${pin.file}`), url.href);
  });
});
