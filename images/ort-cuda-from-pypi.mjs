#!/usr/bin/env node
// Puts ONNX Runtime's CUDA provider (libonnxruntime_providers_cuda.so, _shared.so) beside
// onnxruntime-node's runtime in APP_DIR/node_modules/onnxruntime-node, from PyPI's onnxruntime-gpu
// wheel of the same version (pinned by sha256; ADR 0033). No Python needed: APP_DIR's built
// @sfprompt/core downloads it ($SFPROMPT_PYPI_INDEX, else $PIP_INDEX_URL, else pypi.org).
// Used by images/Dockerfile (ORT_INSTALL=pypi) and bench/gpu/pack.sh; `node images/ort-cuda-from-pypi.mjs .`
// does it for a checkout (after `npm run build`).
// A version not pinned in ORT_CUDA_WHEELS can be given by hand: --wheel FILE --sha256 HEX (the file
// name and sha256 from https://pypi.org/project/onnxruntime-gpu/VERSION/#files).
// Usage: node images/ort-cuda-from-pypi.mjs APP_DIR [--cache DIR] [--wheel FILE --sha256 HEX]
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const app = args[0];
if (app === undefined || app.startsWith("--")) {
  process.stderr.write(
    "usage: node images/ort-cuda-from-pypi.mjs APP_DIR [--cache DIR] [--wheel FILE --sha256 HEX]\n",
  );
  process.exit(2);
}
const flag = (name) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const cache = flag("--cache");
const file = flag("--wheel");
const sha256 = flag("--sha256");
if ((file === undefined) !== (sha256 === undefined)) {
  process.stderr.write("ort-cuda-from-pypi: --wheel and --sha256 go together\n");
  process.exit(2);
}
const core = await import(pathToFileURL(resolve(app, "packages/sfprompt/dist/index.js")).href);
let lastTenth = -1;
try {
  const r = await core.installOrtCudaProvider({
    ortPackageDir: resolve(app, "node_modules/onnxruntime-node"),
    ...(cache === undefined ? {} : { wheelCacheDir: resolve(cache) }),
    ...(file === undefined ? {} : { wheel: { project: "onnxruntime-gpu", file, sha256 } }),
    onProgress: (got, total) => {
      if (total === undefined) return;
      const tenth = Math.floor((10 * got) / total);
      if (tenth !== lastTenth) process.stderr.write(`onnxruntime-gpu wheel: ${tenth * 10} %\n`);
      lastTenth = tenth;
    },
  });
  const needs = r.wheel.cuda === undefined ? "" : ` (needs CUDA ${r.wheel.cuda} and cuDNN ${r.wheel.cudnn})`;
  process.stdout.write(
    `ONNX Runtime CUDA provider for onnxruntime-node ${r.version}${needs} ` +
      `from ${r.wheel.file}${r.cached ? " (cached)" : ""}:\n${r.files.map((f) => `  ${join(f)}`).join("\n")}\n`,
  );
} catch (e) {
  process.stderr.write(`ort-cuda-from-pypi: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
