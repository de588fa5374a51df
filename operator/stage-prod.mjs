#!/usr/bin/env node
// Stages what the operator image installs: the root package.json cut down to the operator's
// workspaces (no devDependencies, so `npm install --omit=dev` pulls no test harness), the lock file,
// those workspaces' package.json files and, with --dist, their built dist/ folders.
// Used by operator/Dockerfile and by e2e/lib/images.sh.
// Usage: node operator/stage-prod.mjs OUT_DIR [--dist] [--from REPO_ROOT]
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The workspaces the operator loads at run time (operator/package.json dependencies, transitively). */
export const OPERATOR_WORKSPACES = ["packages/api", "packages/protocol", "operator"];

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function stage(out, from, withDist) {
  mkdirSync(out, { recursive: true });
  const root = readJson(join(from, "package.json"));
  writeJson(join(out, "package.json"), {
    name: root.name,
    version: root.version,
    private: true,
    type: root.type,
    workspaces: OPERATOR_WORKSPACES,
    ...(root.overrides ? { overrides: root.overrides } : {}),
  });
  cpSync(join(from, "package-lock.json"), join(out, "package-lock.json"));
  for (const ws of OPERATOR_WORKSPACES) {
    const pkg = readJson(join(from, ws, "package.json"));
    delete pkg.devDependencies;
    delete pkg.scripts;
    mkdirSync(join(out, ws), { recursive: true });
    writeJson(join(out, ws, "package.json"), pkg);
    if (withDist) {
      const dist = join(from, ws, "dist");
      if (!existsSync(dist)) throw new Error(`${dist} is missing: run npx tsc -b operator first`);
      cpSync(dist, join(out, ws, "dist"), {
        recursive: true,
        filter: (p) => !p.endsWith(".tsbuildinfo") && !p.endsWith(".map"),
      });
    }
  }
}

const args = process.argv.slice(2);
const fromIdx = args.indexOf("--from");
const out = args.find((a, i) => !a.startsWith("--") && (fromIdx < 0 || i !== fromIdx + 1));
if (out === undefined)
  throw new Error("usage: node operator/stage-prod.mjs OUT_DIR [--dist] [--from REPO_ROOT]");
stage(
  out,
  fromIdx >= 0 ? args[fromIdx + 1] : new URL("..", import.meta.url).pathname,
  args.includes("--dist"),
);
