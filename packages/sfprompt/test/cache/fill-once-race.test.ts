// Processes that start together (a run's server and clients, pods sharing a node's cache) and fill
// the same cache folder: one fills it, the others wait for its lock and read the one result; none
// fails, also where the folders above it do not exist yet. Real processes, released at the same
// millisecond; and a lock as its taker leaves it for a moment (created, no pid yet), made by the test.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

const PROCESS = new URL("./fill-once-process.ts", import.meta.url).pathname;
const PROCESSES = 8;
const TRIALS = 8;

interface Outcome {
  ok: boolean;
  value?: string;
  error?: string;
}

function fillIn(dir: string, startMs: number): Promise<Outcome> {
  const args = ["--conditions=source", "--import", "tsx", PROCESS, dir, String(startMs)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) =>
    child.once("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as Outcome) : reject(new Error(`exit ${code}: ${out}`)),
    ),
  );
}

/** PROCESSES processes fill `dirOf(trial)` at once, TRIALS times: every one gets the value filled. */
async function race(dirOf: (root: string, trial: number) => string): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "fill-once-race-"));
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = dirOf(root, trial);
      const start = Date.now() + 3000; // once every process has loaded
      const outcomes = await Promise.all(Array.from({ length: PROCESSES }, () => fillIn(dir, start)));
      assert.deepEqual(
        outcomes.filter((o) => !o.ok),
        [],
        `trial ${trial}`,
      );
      const value = readFileSync(join(dir, "value.txt"), "utf8");
      assert.deepEqual(
        outcomes.map((o) => o.value),
        Array.from({ length: PROCESSES }, () => value),
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("processes filling one cache folder at once all read the one value filled, none fails on the lock", async () => {
  await race((root, trial) => {
    mkdirSync(join(root, `t${trial}`));
    return join(root, `t${trial}`, "model");
  });
});

test("processes filling a cache whose folders do not exist yet each make them, none fails on a folder another made first", async () => {
  // a deep path: each of its levels is a folder every process makes at the same moment
  await race((root, trial) =>
    join(root, `t${trial}`, ...Array.from({ length: 40 }, (_, i) => `level-${i}`), "model"),
  );
});

test("a lock its taker has created and not yet written its pid in is waited for, not taken for a crashed filler's", async () => {
  const root = mkdtempSync(join(tmpdir(), "fill-once-lock-"));
  try {
    const dir = join(root, "model");
    // this test is the taker: exclusive create done, pid not written yet
    writeFileSync(`${dir}.lock`, "", { flag: "wx" });
    const other = fillIn(dir, Date.now());
    await sleep(1500);
    assert.equal(existsSync(dir), false, "the other process took the lock while its taker wrote it");
    // the taker writes its pid, fills the folder and releases the lock
    writeFileSync(`${dir}.lock`, String(process.pid));
    mkdirSync(dir);
    writeFileSync(join(dir, "value.txt"), "filled by the lock's taker");
    rmSync(`${dir}.lock`);
    assert.deepEqual(await other, { ok: true, value: "filled by the lock's taker" });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a lock left without a pid long ago (its taker died between create and write) is removed and the folder filled", async () => {
  const root = mkdtempSync(join(tmpdir(), "fill-once-lock-"));
  try {
    const dir = join(root, "model");
    writeFileSync(`${dir}.lock`, "", { flag: "wx" });
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(`${dir}.lock`, minuteAgo, minuteAgo);
    const outcome = await fillIn(dir, Date.now());
    assert.equal(outcome.ok, true, outcome.error);
    assert.match(outcome.value ?? "", /^filled by \d+$/);
    assert.equal(readFileSync(join(dir, "value.txt"), "utf8"), outcome.value);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
