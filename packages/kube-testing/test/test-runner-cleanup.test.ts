// scripts/run-tests.mjs runs each test file in a process group of its own and stops what the file
// started once the file ends, however it ends: run on fixture files (scripts/test-runner/fixtures)
// that start children (one ignoring SIGTERM, one in a session of its own) and then hang past the
// timeout, get SIGKILLed, crash, or pass; afterwards none of those children may still run.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { waitFor } from "../src/index.js";

const runTests = new URL("../../../scripts/run-tests.mjs", import.meta.url).pathname;
/** Long enough for a loaded machine to start a fixture, short enough for the hanging one to be killed. */
const FILE_TIMEOUT_MS = 8000;

/** Why these tests cannot run here, or false: `running` reads /proc, on Linux only. */
const noProc = existsSync("/proc/self/stat")
  ? false
  : "no /proc here: these tests tell live processes from /proc";

/** True while `pid` runs: a zombie has ended (here PID 1 does not reap the orphans). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** `running` must see a live process, or every "is gone" assertion below would pass vacuously. */
function assertSeesLiveProcesses(): void {
  assert.ok(running(process.pid), `running(${process.pid}) is false for this test's own process`);
}

/** SIGKILL that tolerates a process that has just exited. */
function killIfRunning(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** The pids of a fixture's process and of the children it started. */
interface Leaked {
  readonly file: number;
  readonly children: number[];
}

interface Run {
  readonly pid: number;
  readonly output: () => string;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** The pids the fixture wrote once it started its children (undefined before). */
  readonly leaked: () => Leaked | undefined;
}

/** Starts the runner on one fixture, as `node scripts/run-tests.mjs <fixture>` would run a test file. */
function startRunner(
  t: TestContext,
  fixture: string,
  opts: { timeoutMs?: number; detached?: boolean } = {},
): Run {
  const dir = mkdtempSync(join(tmpdir(), "runner-cleanup-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEST_ROOTS: "scripts/test-runner/fixtures",
    TEST_TIMEOUT_MS: String(opts.timeoutMs ?? FILE_TIMEOUT_MS),
    TEST_CONCURRENCY: "1",
    LEAK_PIDS_DIR: dir,
  };
  // this file runs under node --test itself: the inner runner must not think it is a test file
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [runTests, `${fixture}.test.ts`], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: opts.detached === true,
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
  const pidsFile = join(dir, `${fixture}.json`);
  const leaked = (): Leaked | undefined =>
    existsSync(pidsFile) ? (JSON.parse(readFileSync(pidsFile, "utf8")) as Leaked) : undefined;
  t.after(() => {
    // without the cleanup under test, do not leave the children for the rest of the suite
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    const pids = leaked();
    for (const pid of pids ? [pids.file, ...pids.children] : []) if (running(pid)) killIfRunning(pid);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    pid: child.pid!,
    output: () => out,
    exited: once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>,
    leaked,
  };
}

const endings = [
  {
    name: "a file that hangs past the timeout and is killed by the runner",
    fixture: "hangs-past-timeout",
    code: 1,
  },
  { name: "a file whose process is SIGKILLed", fixture: "killed-by-sigkill", code: 1 },
  { name: "a file that crashes with an uncaught error", fixture: "crashes-on-load", code: 1 },
  {
    name: "a file that passes but leaves its children running (it still passes)",
    fixture: "passes-leaving-children",
    code: 0,
  },
];

describe("nothing a test file started runs once the runner is done with it", () => {
  for (const c of endings) {
    it(c.name, { skip: noProc }, async (t) => {
      assertSeesLiveProcesses();
      const run = startRunner(t, c.fixture);
      const [code] = await run.exited;
      assert.equal(code, c.code, `the runner's exit code; its output:\n${run.output()}`);
      const pids = run.leaked();
      assert.ok(pids, `the fixture started its children; the runner's output:\n${run.output()}`);
      assert.equal(pids.children.length, 3);
      assert.deepEqual(
        pids.children.filter(running),
        [],
        "children of the file (plain, ignoring SIGTERM, in a session of their own) still run",
      );
    });
  }

  const kills = [
    { name: "the runner SIGKILLed while a file hangs: the file and its children are stopped", group: false },
    {
      name: "the runner's whole process group SIGKILLed (runner, node --test, file supervisors): the same",
      group: true,
    },
  ];
  for (const c of kills) {
    it(c.name, { skip: noProc }, async (t) => {
      assertSeesLiveProcesses();
      const run = startRunner(t, "hangs-past-timeout", { timeoutMs: 600_000, detached: c.group });
      const pids = await waitFor(run.leaked, {
        timeoutMs: 60_000,
        description: "the fixture to start its children",
      });
      process.kill(c.group ? -run.pid : run.pid, "SIGKILL");
      await run.exited;
      const all = [pids.file, ...pids.children];
      await waitFor(() => all.filter(running).length === 0, {
        timeoutMs: 20_000,
        description: `the file's process and its children (${all.join(", ")}) to be stopped`,
      });
    });
  }
});
