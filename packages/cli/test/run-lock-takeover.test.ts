// `sfprompt run`s that start together on a folder whose lock a killed run left (SIGKILL, a crash, a
// reboot): each sees the lock's holder dead, and exactly one may take the folder over; the other is
// told it is in use. Real processes, released at the same millisecond on each of many such folders.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LOCK_FILE, lockRunDir } from "../src/run/run-lock.js";

const PROCESS = new URL("./run-lock-takeover-process.ts", import.meta.url).pathname;
const TRIALS = 400;
const STEP_MS = 15;

type Outcome = { ok: boolean; error?: string };

/** A taking process; `outcomes` once it has tried every folder, `release` ends it (releasing them). */
function takeAll(
  root: string,
  startMs: number,
): { outcomes: Promise<Outcome[]>; release: () => Promise<void> } {
  const args = [
    "--conditions=source",
    "--import",
    "tsx",
    PROCESS,
    root,
    String(TRIALS),
    String(startMs),
    String(STEP_MS),
  ];
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  let out = "";
  const outcomes = new Promise<Outcome[]>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.endsWith("\n")) resolve(JSON.parse(out.trim()) as Outcome[]);
    });
    void exited.then((code) => reject(new Error(`exit ${code} before its outcomes: ${out}`)));
  });
  const release = async (): Promise<void> => {
    child.stdin.end();
    const code = await exited;
    assert.equal(code, 0, `taking process exit ${code}`);
  };
  return { outcomes, release };
}

/** The pid of a process that has exited: a killed run's, as its lock names it. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  assert.equal(child.status, 0);
  return child.pid;
}

/**
 * Two taking processes released together on each of TRIALS folders that `leave` fills as a killed
 * run (and its dead takers) left it: exactly one may take each over, the other is told it is in use,
 * and nothing stays once both let go.
 */
async function raceOnKilledRunsFolders(leave: (dir: string) => void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "run-lock-takeover-"));
  try {
    for (let k = 0; k < TRIALS; k++) {
      mkdirSync(join(root, `t${k}`));
      leave(join(root, `t${k}`));
    }
    const start = Date.now() + 6000; // once both processes have loaded (seconds on 2 busy cores)
    const takers = [takeAll(root, start), takeAll(root, start)];
    let a: Outcome[], b: Outcome[];
    try {
      [a, b] = (await Promise.all(takers.map((t) => t.outcomes))) as [Outcome[], Outcome[]];
    } finally {
      // every folder tried by both: now the holders may let go
      await Promise.all(takers.map((t) => t.release()));
    }
    const both: number[] = [];
    for (let k = 0; k < TRIALS; k++) {
      const pair = [a[k]!, b[k]!];
      if (pair.every((o) => o.ok)) both.push(k);
      else {
        assert.equal(pair.filter((o) => o.ok).length, 1, `folder t${k}: ${JSON.stringify(pair)}`);
        assert.match(
          pair.find((o) => !o.ok)!.error ?? "",
          /: is in use by another sfprompt run \((pid \d+|starting)\)/,
          `folder t${k}`,
        );
      }
    }
    assert.deepEqual(both, [], "folders both runs took over");
    for (let k = 0; k < TRIALS; k++)
      assert.deepEqual(readdirSync(join(root, `t${k}`)), [], `t${k}: released, nothing left`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("two runs on a folder whose holder was killed: exactly one takes it over, the other is told it is in use, and no takeover file stays", async () => {
  const dead = deadPid();
  await raceOnKilledRunsFolders((dir) => writeFileSync(join(dir, LOCK_FILE), `${dead}\n`));
});

test("two runs on a folder whose holder and three takers after it were killed: exactly one takes it over, and no takeover file stays", async () => {
  const [killed, ...takers] = [deadPid(), deadPid(), deadPid(), deadPid()];
  await raceOnKilledRunsFolders((dir) => {
    writeFileSync(join(dir, LOCK_FILE), `${killed}\n`);
    takers.forEach((pid, i) => writeFileSync(join(dir, `${LOCK_FILE}.taking-${i + 1}`), `${pid}\n`));
  });
});

test("a run that died while taking over does not keep the folder: the next takes it and removes the files both left", () => {
  const dir = mkdtempSync(join(tmpdir(), "run-lock-takeover-"));
  try {
    const [killed, taker] = [deadPid(), deadPid()];
    writeFileSync(join(dir, LOCK_FILE), `${killed}\n`);
    writeFileSync(join(dir, `${LOCK_FILE}.taking-1`), `${taker}\n`); // its successor file, never renamed
    const release = lockRunDir(dir);
    assert.deepEqual(readdirSync(dir), [LOCK_FILE]);
    assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8").split("\n")[0], String(process.pid));
    release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a run that is taking over a killed run's folder holds it: another is told it is in use", () => {
  const dir = mkdtempSync(join(tmpdir(), "run-lock-takeover-"));
  try {
    const killed = deadPid();
    const taking = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeFileSync(join(dir, LOCK_FILE), `${killed}\n`);
      writeFileSync(join(dir, `${LOCK_FILE}.taking-1`), `${taking.pid}\n`);
      assert.throws(
        () => lockRunDir(dir),
        new RegExp(`: is in use by another sfprompt run \\(pid ${taking.pid}\\)`),
      );
      assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), `${killed}\n`, "the lock stays as it was");
    } finally {
      taking.kill("SIGKILL");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
