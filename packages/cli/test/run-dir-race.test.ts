// `sfprompt run`s that start together on run directories under a parent that does not exist yet
// (a script starting one run per job, each --out under one new folder): each makes the levels it
// finds missing, and a level another run made first is no error. Real processes, released at the
// same millisecond, taking the run directory as `sfprompt run` does; on one folder, one of them holds
// it, also where the others read its lock between its exclusive create and its pid write.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const PROCESS = new URL("./run-dir-race-process.ts", import.meta.url).pathname;
const PROCESSES = 8;
const TRIALS = 4;

interface Outcome {
  ok: boolean;
  error?: string;
}

function takeIn(dir: string, startMs: number): Promise<Outcome> {
  const args = [
    "--conditions=source",
    "--import",
    "tsx",
    PROCESS,
    dir,
    String(startMs),
    String(startMs + 3000),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) =>
    child.once("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as Outcome) : reject(new Error(`exit ${code}: ${out}`)),
    ),
  );
}

/** PROCESSES processes take `dirOf(trial, i)` at once, TRIALS times; their outcomes per trial. */
async function race(dirOf: (root: string, trial: number, i: number) => string): Promise<Outcome[][]> {
  const root = mkdtempSync(join(tmpdir(), "run-dir-race-"));
  try {
    const trials: Outcome[][] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const start = Date.now() + 8000; // once every process has loaded (8 on 2 cores take seconds)
      trials.push(
        await Promise.all(Array.from({ length: PROCESSES }, (_, i) => takeIn(dirOf(root, trial, i), start))),
      );
    }
    return trials;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A folder 40 levels below a new one: each level is one every process makes at the same moment. */
const deep = (root: string, trial: number): string =>
  join(root, `t${trial}`, ...Array.from({ length: 40 }, (_, i) => `level-${i}`));

test("runs on sibling folders under a new parent all start, none fails on a level another made first", async () => {
  const trials = await race((root, trial, i) => join(deep(root, trial), `run-${i}`));
  trials.forEach((outcomes, trial) =>
    assert.deepEqual(
      outcomes.filter((o) => !o.ok),
      [],
      `trial ${trial}`,
    ),
  );
});

test("runs on one new folder: one takes it, the others are told it is in use (not that it is a file), also while its lock is being written", async () => {
  const trials = await race((root, trial) => join(deep(root, trial), "run"));
  trials.forEach((outcomes, trial) => {
    assert.equal(outcomes.filter((o) => o.ok).length, 1, `trial ${trial}: ${JSON.stringify(outcomes)}`);
    for (const o of outcomes.filter((x) => !x.ok))
      assert.match(
        o.error ?? "",
        /: is in use by another sfprompt run \((pid \d+|starting)\)/,
        `trial ${trial}`,
      );
  });
});
