// A killed run's lock names a pid that the system may have given to another process since: the lock
// also says when its run started (Linux: boot id and /proc/PID/stat's start time), so that such a
// pid does not keep the folder held forever, and the nats-server it names is stopped only if it is
// still that one. Real processes; the lock files as a run (or an older run) writes them.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LOCK_FILE, lockRunDir } from "../src/run/run-lock.js";

const BOOT_ID = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const OTHER_BOOT_ID = "00000000-0000-4000-8000-000000000000";
const HOLDER = new URL("./run-lock-holder-process.ts", import.meta.url).pathname;

/** A live process that is no run: what a reused pid names. */
function sleeper(): ChildProcess {
  return spawn("sleep", ["600"], { stdio: "ignore" });
}

function isRunning(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

/** The pid of a process that has exited: a killed run's. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  assert.equal(child.status, 0);
  return child.pid;
}

function withDir(body: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "run-lock-reused-pid-"));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Waits for `p` to print its first line (a holder: once it holds the folder). */
function firstLine(p: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    p.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    p.once("exit", (code) => reject(new Error(`exited (${code}) before its first line: ${out}`)));
  });
}

describe("a run folder whose lock names a pid that another process has now", () => {
  const taken = [
    {
      name: "a lock whose run started at another time than the process now at its pid is taken over",
      lock: (pid: number): string => `${pid}\nstarted ${BOOT_ID} 1\n`,
    },
    {
      name: "a lock written before the last boot is taken over, whatever runs at its pid now",
      lock: (pid: number): string => `${pid}\nstarted ${OTHER_BOOT_ID} 1\n`,
    },
  ];
  for (const c of taken) {
    it(
      c.name,
      withDir((dir) => {
        const other = sleeper();
        try {
          writeFileSync(join(dir, LOCK_FILE), c.lock(other.pid!));
          const release = lockRunDir(dir);
          const lines = readFileSync(join(dir, LOCK_FILE), "utf8").split("\n");
          assert.equal(lines[0], String(process.pid), "the lock is this run's now");
          assert.match(lines[1] ?? "", new RegExp(`^started ${BOOT_ID} \\d+$`));
          assert.ok(isRunning(other), "the process at the reused pid is left alone");
          release();
          assert.deepEqual(readdirSync(dir), []);
        } finally {
          other.kill("SIGKILL");
        }
      }),
    );
  }

  it(
    "a lock that says no start time (an older run's) is held while its pid lives",
    withDir((dir) => {
      const other = sleeper();
      try {
        writeFileSync(join(dir, LOCK_FILE), `${other.pid}\n`);
        assert.throws(
          () => lockRunDir(dir),
          new RegExp(`: is in use by another sfprompt run \\(pid ${other.pid}\\)`),
        );
      } finally {
        other.kill("SIGKILL");
      }
    }),
  );

  it(
    "a live run's lock, with the start time it wrote, is held",
    withDir(async (dir) => {
      const holder = spawn(process.execPath, ["--conditions=source", "--import", "tsx", HOLDER, dir], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      try {
        assert.equal(await firstLine(holder), "held");
        assert.throws(
          () => lockRunDir(dir),
          new RegExp(`: is in use by another sfprompt run \\(pid ${holder.pid}\\)`),
        );
      } finally {
        holder.kill("SIGKILL");
      }
    }),
  );

  it(
    "the nats-server a killed run noted is not stopped when its pid is now another nats-server",
    withDir(async (dir) => {
      // another run's nats-server, at the pid the killed run's had
      const nats = spawn("nats-server", ["-a", "127.0.0.1", "-p", "-1"], { stdio: "ignore" });
      try {
        const lock = `${deadPid()}\nstarted ${BOOT_ID} 1\nnats ${nats.pid}\nnats-started ${BOOT_ID} 1\n`;
        writeFileSync(join(dir, LOCK_FILE), lock);
        await new Promise((resolve) => setTimeout(resolve, 500)); // nats-server is running by now
        const release = lockRunDir(dir);
        release();
        await new Promise((resolve) => setTimeout(resolve, 200)); // a SIGTERM would have ended it
        assert.ok(isRunning(nats), "the other nats-server still runs");
      } finally {
        nats.kill("SIGKILL");
      }
    }),
  );
});
