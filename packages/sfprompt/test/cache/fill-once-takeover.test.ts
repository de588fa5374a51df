// Processes that start together on a cache folder whose filler crashed (its lock left behind, its pid
// dead): each finds the lock's filler gone, and exactly one may take the lock over and fill the
// folder; the others wait for it and read its value. Before the takeover chain (ADR 0027 amendment 4)
// two takers could each remove the dead lock, the second removing the first one's fresh lock, and
// both filled. Real processes (fill-once-takeover-process.ts), released at the same millisecond on
// each of many such folders.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const PROCESS = new URL("./fill-once-takeover-process.ts", import.meta.url).pathname;
const PROCESSES = 4;
const TRIALS = 600;
const STEP_MS = 10;
const FILL_MS = 300;
const BOOT_ID = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();

interface Outcome {
  ok: boolean;
  value?: string;
  error?: string;
}

/** A process filling every folder at its instant; its outcomes in folder order. */
function fillAll(root: string, startMs: number): Promise<Outcome[]> {
  const args = ["--conditions=source", "--import", "tsx", PROCESS, root];
  args.push(String(TRIALS), String(startMs), String(STEP_MS), String(FILL_MS));
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  return new Promise((resolve, reject) =>
    child.once("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as Outcome[]) : reject(new Error(`exit ${code}: ${out}`)),
    ),
  );
}

/** The pid of a process that has exited: a crashed filler's, as its lock names it. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  assert.equal(child.status, 0);
  return child.pid;
}

/** The lock as a filler writes it, for a filler that is gone (its start: the first tick after boot). */
function crashedFillersLock(pid: number): string {
  return `${pid}\nstarted ${BOOT_ID} 1\npidns ${readlinkSync("/proc/self/ns/pid")}\n`;
}

/**
 * PROCESSES processes released together on each of TRIALS folders that `leave` fills as crashed
 * fillers left it: exactly one fills each, every process reads its value, and no lock or takeover
 * file stays.
 */
async function raceOnCrashedFillersLocks(leave: (lock: string) => void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "fill-once-takeover-"));
  try {
    for (let k = 0; k < TRIALS; k++) {
      mkdirSync(join(root, `t${k}`));
      leave(join(root, `t${k}`, "model.lock"));
    }
    const start = Date.now() + 3000 + 1500 * PROCESSES; // once every process has loaded (busy cores)
    const all = await Promise.all(Array.from({ length: PROCESSES }, () => fillAll(root, start)));
    const fillsOf = (k: number): string[] =>
      readFileSync(join(root, `t${k}`, "fills"), "utf8")
        .trim()
        .split("\n");
    const twice = Array.from({ length: TRIALS }, (_, k) => `t${k}: ${fillsOf(k).join(", ")}`).filter((line) =>
      line.includes(","),
    );
    assert.deepEqual(twice, [], "folders filled by more than one process (their fillers' pids)");
    for (let k = 0; k < TRIALS; k++) {
      const value = `filled by ${fillsOf(k)[0]}`;
      const outcomes = all.map((o) => o[k]!);
      assert.deepEqual(
        outcomes.map((o) => o.value ?? o.error),
        outcomes.map(() => value),
        `t${k}: every process reads the one fill's value`,
      );
      assert.deepEqual(readdirSync(join(root, `t${k}`)).sort(), ["fills", "model"], `t${k}: files left`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("processes finding a crashed filler's lock at once: exactly one takes it over and fills, the others read its value, no takeover file stays", async () => {
  const filler = deadPid();
  await raceOnCrashedFillersLocks((lock) => writeFileSync(lock, crashedFillersLock(filler)));
});

test("processes finding a crashed filler's lock and three crashed takers after it: exactly one fills, no takeover file stays", async () => {
  const [filler, ...takers] = [deadPid(), deadPid(), deadPid(), deadPid()];
  await raceOnCrashedFillersLocks((lock) => {
    writeFileSync(lock, crashedFillersLock(filler));
    takers.forEach((pid, i) => writeFileSync(`${lock}.taking-${i + 1}`, crashedFillersLock(pid)));
  });
});
