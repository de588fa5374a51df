// scripts/run-tests.mjs refuses, with one clear message, what would otherwise fail every test file on
// its own: a file-supervisor.sh without its exec bit (a copy or checkout that dropped modes), and a
// `node --test` that no longer starts each file through process.execPath (group-per-file.cjs).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";

const repo = new URL("../../../", import.meta.url).pathname;

interface Result {
  readonly code: number | null;
  readonly output: string;
}

async function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Result> {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, output };
}

/** A copy of the runner (scripts/run-tests.mjs, scripts/test-runner) with one passing test file. */
function runnerCopy(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "runner-preflight-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(repo, "scripts/run-tests.mjs"), join(dir, "scripts/run-tests.mjs"));
  cpSync(join(repo, "scripts/test-runner"), join(dir, "scripts/test-runner"), { recursive: true });
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules")); // tsx
  mkdirSync(join(dir, "t"));
  writeFileSync(join(dir, "t/ok.test.ts"), 'import { it } from "node:test";\nit("runs", () => {});\n');
  return dir;
}

function runnerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TEST_ROOTS: "t", TEST_CONCURRENCY: "1" };
  // this file runs under node --test itself: the runner and its files must not inherit that
  delete env.NODE_TEST_CONTEXT;
  delete env.SFPROMPT_TEST_FILE_RUN;
  return env;
}

describe("the test runner says once, up front, why no test file could run", () => {
  it("runs the copy's test file while file-supervisor.sh keeps its exec bit (the copy itself works)", async (t) => {
    const dir = runnerCopy(t);
    const r = await run([join(dir, "scripts/run-tests.mjs")], runnerEnv(), dir);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /# pass 1/);
  });

  it("refuses to start when file-supervisor.sh lost its exec bit, naming the file and the fix", async (t) => {
    const dir = runnerCopy(t);
    const supervisor = join(dir, "scripts/test-runner/file-supervisor.sh");
    chmodSync(supervisor, 0o644);
    const r = await run([join(dir, "scripts/run-tests.mjs")], runnerEnv(), dir);
    assert.equal(r.code, 1, r.output);
    assert.ok(r.output.includes(`${supervisor} is not executable`), r.output);
    assert.ok(r.output.includes("chmod +x scripts/test-runner/file-supervisor.sh"), r.output);
    assert.ok(
      r.output.includes("git update-index --chmod=+x scripts/test-runner/file-supervisor.sh"),
      r.output,
    );
    assert.doesNotMatch(r.output, /# tests|spawn /, "node --test was not started");
  });

  it("fails a test file that node --test started without the supervisor (process.execPath ignored)", async () => {
    // what a file's process sees when the runner spawns plain node for it: the test context, no run tag
    const env = { ...runnerEnv(), NODE_TEST_CONTEXT: "child-v8" };
    const cjs = join(repo, "scripts/test-runner/group-per-file.cjs");
    const r = await run(["--require", cjs, "-e", 'console.log("file ran")'], env, repo);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /SupervisorBypassedError: .*without scripts\/test-runner\/file-supervisor\.sh/);
    assert.ok(!r.output.includes("file ran"), r.output);
  });
});
