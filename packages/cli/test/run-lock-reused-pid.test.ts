// A killed run's lock names a pid that the system may have given to another process since: the lock
// also says when its run started (Linux: boot id and /proc/PID/stat's start time), so that such a
// pid does not keep the folder held forever, and the nats-server it names is stopped only if it is
// still that one. The start is compared only for a lock written in the reader's pid namespace: a run
// in another container sharing the folder (pid 1 there) names some other process here, and so does
// the nats-server it notes. Real processes (a run in a pid namespace of its own via unshare); the
// lock files as a run (or an older run) writes them.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { processStart } from "@sfprompt/core";
import { loadableAs } from "../../sfprompt/test/checkout-for-user.js";
import { LOCK_FILE, lockRunDir } from "../src/run/run-lock.js";

const BOOT_ID = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const OTHER_BOOT_ID = "00000000-0000-4000-8000-000000000000";
const HOLDER = new URL("./run-lock-holder-process.ts", import.meta.url).pathname;
/** This process's pid namespace, as a run writes it in its lock. */
const PIDNS = readlinkSync("/proc/self/ns/pid");
/** A pid namespace of its own for a run (root in a user namespace; pid 1; its own /proc). */
const UNSHARE = ["unshare", "-Urp", "--kill-child", "--mount-proc"] as const;

/** Whether unprivileged `unshare` can give a process a pid namespace of its own here. */
function canUnsharePid(): boolean {
  return spawnSync(UNSHARE[0], [...UNSHARE.slice(1), "true"], { stdio: "ignore" }).status === 0;
}

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
      lock: (pid: number): string => `${pid}\nstarted ${BOOT_ID} 1\npidns ${PIDNS}\n`,
    },
    {
      name: "a lock written before the last boot is taken over, whatever runs at its pid now",
      lock: (pid: number): string => `${pid}\nstarted ${OTHER_BOOT_ID} 1\npidns ${PIDNS}\n`,
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
          assert.equal(lines[2], `pidns ${PIDNS}`);
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
    "a lock naming this run's own pid with no start time (an older run's pid, now this process's) is taken over",
    withDir((dir) => {
      writeFileSync(join(dir, LOCK_FILE), `${process.pid}\n`);
      const release = lockRunDir(dir);
      const lines = readFileSync(join(dir, LOCK_FILE), "utf8").split("\n");
      assert.equal(lines[0], String(process.pid));
      assert.match(lines[1] ?? "", new RegExp(`^started ${BOOT_ID} \\d+$`), "the lock is this run's now");
      release();
      assert.deepEqual(readdirSync(dir), []);
    }),
  );

  it(
    "a lock naming this run's own pid written in another pid namespace (another container's run) is held",
    withDir((dir) => {
      const lock = `${process.pid}\nstarted ${BOOT_ID} 1\npidns pid:[1]\n`;
      writeFileSync(join(dir, LOCK_FILE), lock);
      assert.throws(
        () => lockRunDir(dir),
        new RegExp(`: is in use by another sfprompt run \\(pid ${process.pid}\\)`),
      );
      assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), lock, "the other run's lock stays");
    }),
  );

  it(
    "a lock that this process's user cannot read is reported as one that cannot be read",
    withDir((dir) => {
      // as root: the lock is root's, mode 0600, and the run is the holder process as nobody; else mode 000
      const asRoot = process.getuid?.() === 0;
      const user = asRoot ? { uid: 65534, gid: 65534 } : undefined;
      const other = sleeper();
      try {
        const lock = join(dir, LOCK_FILE);
        writeFileSync(lock, `${other.pid}\n`);
        chmodSync(lock, asRoot ? 0o600 : 0o000);
        chmodSync(dir, 0o777);
        // from a copy of the checkout where nobody cannot read it (a clone under /root)
        const holder = loadableAs(user, HOLDER);
        const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", holder.file, dir], {
          cwd: holder.root,
          encoding: "utf8",
          timeout: 60_000,
          killSignal: "SIGKILL",
          ...user,
          // tsx keeps its cache in the temp folder per user
          env: { ...process.env, HOME: tmpdir() },
        });
        assert.notEqual(r.status, 0);
        assert.equal(r.stdout, "", "the run did not take the folder");
        const uid = user?.uid ?? process.getuid!();
        const gid = user?.gid ?? process.getgid!();
        assert.ok(
          r.stderr.includes(
            `RunDirError: run directory ${dir}: its lock ${lock} cannot be read by this process's user ` +
              `(uid ${uid}, gid ${gid}; EACCES): make it readable (chmod a+r ${lock}), or, if no sfprompt ` +
              `run uses the folder, remove it (rm -f ${lock}, as its owner or root); or choose another ` +
              `folder with --out DIR (or spec.output.path)`,
          ),
          r.stderr,
        );
      } finally {
        other.kill("SIGKILL");
      }
    }),
  );

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
    "a lock with a start time but no pid namespace (an older run's, maybe another container's) is held while its pid lives",
    withDir((dir) => {
      const other = sleeper();
      try {
        writeFileSync(join(dir, LOCK_FILE), `${other.pid}\nstarted ${BOOT_ID} 1\n`);
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
    "a live run in another pid namespace (a container sharing the folder) holds it: a run here is told it is in use",
    { skip: canUnsharePid() ? false : "unshare cannot make a pid namespace here (no user namespaces)" },
    withDir(async (dir) => {
      // the holder is pid 1 of its namespace: here, pid 1 is init, which started at another time
      const args = [...UNSHARE.slice(1), process.execPath, "--conditions=source", "--import", "tsx"];
      const holder = spawn(UNSHARE[0], [...args, HOLDER, dir], { stdio: ["pipe", "pipe", "inherit"] });
      try {
        assert.equal(await firstLine(holder), "held");
        const lock = readFileSync(join(dir, LOCK_FILE), "utf8");
        assert.throws(() => lockRunDir(dir), /: is in use by another sfprompt run \(pid 1\)/);
        assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8"), lock, "the live run's lock stays");
        assert.match(lock, /^1\nstarted \S+ \d+\npidns pid:\[\d+\]\n$/);
        assert.notEqual(lock.split("\n")[2], `pidns ${PIDNS}`);
      } finally {
        holder.kill("SIGKILL");
      }
    }),
  );

  it(
    "the nats-server a killed run in another pid namespace noted is not stopped: its pid names another process here",
    withDir(async (dir) => {
      // a nats-server here whose pid and start the other namespace's lock happens to name
      const nats = spawn("nats-server", ["-a", "127.0.0.1", "-p", "-1"], { stdio: "ignore" });
      try {
        await new Promise((resolve) => setTimeout(resolve, 500)); // nats-server is running by now
        const natsStart = processStart(nats.pid!);
        assert.ok(natsStart !== undefined);
        const lock = `${deadPid()}\nstarted ${BOOT_ID} 1\npidns pid:[1]\nnats ${nats.pid}\nnats-started ${natsStart}\n`;
        writeFileSync(join(dir, LOCK_FILE), lock);
        const release = lockRunDir(dir);
        release();
        await new Promise((resolve) => setTimeout(resolve, 200)); // a SIGTERM would have ended it
        assert.ok(isRunning(nats), "the nats-server here still runs");
      } finally {
        nats.kill("SIGKILL");
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
