#!/usr/bin/env node
// Runs every *.test.ts of the workspaces with node's test runner, straight from source (tsx).
// Usage: node scripts/run-tests.mjs [substring filters...]
// Each test file runs in a process group of its own, stopped when the file ends: nothing a test
// starts outlives its file (scripts/test-runner/group-per-file.cjs, ADR 0009 amendment 2).
// TEST_CONCURRENCY (default 2) files at once; TEST_TIMEOUT_MS (default 900000) per file and per test;
// TEST_ROOTS (comma-separated folders, default the workspaces) where to look for *.test.ts.
import { accessSync, constants, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const supervisor = new URL("./test-runner/file-supervisor.sh", import.meta.url).pathname;

// node --test starts every file through the supervisor script: without its exec bit (a copy or
// checkout that drops modes) each file would fail alone with `spawn ... EACCES`; say it once instead.
try {
  accessSync(supervisor, constants.X_OK);
} catch (err) {
  const rel = relative(root, supervisor);
  console.error(
    `run-tests: ${supervisor} is not executable (${err.code ?? err.message}); node --test starts ` +
      `every test file through it.\nFix: chmod +x ${rel}` +
      ` (and, if git records it without the bit, git update-index --chmod=+x ${rel})`,
  );
  process.exit(1);
}
const roots = process.env.TEST_ROOTS?.split(",") ?? ["packages", "operator", "images", "e2e", "bench"];
const skip = new Set(["node_modules", "dist", ".cache"]);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => {
    try {
      return walk(join(root, r), []);
    } catch {
      return [];
    }
  })
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ") || "(all)"}`);
  process.exit(1);
}
const args = [
  "--conditions=source",
  "--import",
  "tsx",
  "--require",
  new URL("./test-runner/group-per-file.cjs", import.meta.url).pathname,
  "--test",
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? "2"}`,
  `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? "900000"}`,
  // The TAP report on stdout as before, and a list of the failed tests on stderr once all have ended.
  "--test-reporter=tap",
  "--test-reporter-destination=stdout",
  `--test-reporter=${new URL("./test-runner/failures-reporter.mjs", import.meta.url).href}`,
  "--test-reporter-destination=stderr",
  ...files,
];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
