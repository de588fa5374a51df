#!/usr/bin/env node
// Stages what an image installs: the root package.json cut down to the workspaces its process needs
// (no devDependencies anywhere, so that `npm install --omit=dev` pulls no test harness, and the
// server/client images not the operator nor the operator image ORT), the lock file, those
// workspaces' package.json files and, with --dist, their built dist/ folders (and data/ folders). Used by
// images/Dockerfile, operator/Dockerfile, images/build-local.sh and e2e/lib/images.sh.
// Usage: node images/stage-prod.mjs OUT_DIR [--dist] [--from REPO_ROOT] [--operator | --cli]
//        node images/stage-prod.mjs --prune-ort OUT_DIR [ARCH]   (keep only linux/ARCH ORT binaries)
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The workspaces the two processes load at run time (images/*\/package.json dependencies, transitively). */
export const RUNTIME_WORKSPACES = [
  "packages/api",
  "packages/engine",
  "packages/protocol",
  "packages/sfprompt",
  "images/shell",
  "images/server",
  "images/client",
];

/** The runtime workspaces plus the CLI (`sfprompt run` on a machine without the repo: bench/gpu). */
export const CLI_WORKSPACES = [...RUNTIME_WORKSPACES, "packages/cli"];

/** The workspaces the operator loads at run time (operator/package.json dependencies, transitively). */
export const OPERATOR_WORKSPACES = ["packages/api", "packages/protocol", "operator"];

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function stage(out, from, withDist, workspaces, buildHint) {
  mkdirSync(out, { recursive: true });
  const root = readJson(join(from, "package.json"));
  writeJson(join(out, "package.json"), {
    name: root.name,
    version: root.version,
    private: true,
    type: root.type,
    workspaces,
    ...(root.overrides ? { overrides: root.overrides } : {}),
  });
  cpSync(join(from, "package-lock.json"), join(out, "package-lock.json"));
  for (const ws of workspaces) {
    const pkg = readJson(join(from, ws, "package.json"));
    delete pkg.devDependencies;
    delete pkg.scripts;
    mkdirSync(join(out, ws), { recursive: true });
    writeJson(join(out, ws, "package.json"), pkg);
    if (withDist) {
      const dist = join(from, ws, "dist");
      if (!existsSync(dist)) throw new Error(`${dist} is missing: run npx tsc -b ${buildHint} first`);
      cpSync(dist, join(out, ws, "dist"), {
        recursive: true,
        filter: (p) => !p.endsWith(".tsbuildinfo") && !p.endsWith(".map"),
      });
      // data a package reads at run time (packages/sfprompt/data: the debian-sections texts)
      const data = join(from, ws, "data");
      if (existsSync(data)) cpSync(data, join(out, ws, "data"), { recursive: true });
    }
  }
}

// onnxruntime-node ships CPU binaries for every OS and arch (~290 MB); an image needs one.
function pruneOrt(out, arch) {
  const bin = join(out, "node_modules/onnxruntime-node/bin");
  if (!existsSync(bin)) return;
  for (const napi of readdirSync(bin)) {
    for (const os of readdirSync(join(bin, napi))) {
      if (os !== "linux") rmSync(join(bin, napi, os), { recursive: true, force: true });
      else
        for (const a of readdirSync(join(bin, napi, os)))
          if (a !== arch) rmSync(join(bin, napi, os, a), { recursive: true, force: true });
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === "--prune-ort") {
  const arch = args[2] ?? (process.arch === "arm64" ? "arm64" : "x64");
  pruneOrt(args[1], arch);
} else {
  const out = args.find((a) => !a.startsWith("--") && args[args.indexOf(a) - 1] !== "--from");
  const fromIdx = args.indexOf("--from");
  if (out === undefined)
    throw new Error(
      "usage: node images/stage-prod.mjs OUT_DIR [--dist] [--from REPO_ROOT] [--operator | --cli]",
    );
  // the workspaces to stage, and what to build when their dist/ is missing
  const [workspaces, buildHint] = args.includes("--operator")
    ? [OPERATOR_WORKSPACES, "operator"]
    : args.includes("--cli")
      ? [CLI_WORKSPACES, "images/server images/client packages/cli"]
      : [RUNTIME_WORKSPACES, "images/server images/client"];
  stage(
    out,
    fromIdx >= 0 ? args[fromIdx + 1] : new URL("..", import.meta.url).pathname,
    args.includes("--dist"),
    workspaces,
    buildHint,
  );
}
