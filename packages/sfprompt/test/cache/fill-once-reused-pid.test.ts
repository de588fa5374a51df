// A crashed filler's cache lock names a pid that the system may have given to another process since:
// the lock also says when its filler started (Linux: boot id and /proc/PID/stat's start time), so
// that such a pid does not keep every later fill waiting. A live filler's lock still holds, also
// one written in another pid namespace (a container sharing the cache), whose pid means nothing
// here. Real processes: fillers (fill-once-process.ts), a `sleep` at the reused pid, and a filler
// started by `unshare` in a pid namespace of its own.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { shellQuote } from "@sfprompt/api";
import { loadableAs } from "../checkout-for-user.js";

const PROCESS = new URL("./fill-once-process.ts", import.meta.url).pathname;
const BOOT_ID = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const OTHER_BOOT_ID = "00000000-0000-4000-8000-000000000000";
/** Far longer than a fill takes here: a process still waiting after it waits on the lock. */
const WAIT_LIMIT_MS = 30_000;
/** A pid namespace of its own for the filler (root in a user namespace; pid 1; its own /proc). */
const UNSHARE = ["unshare", "-Urp", "--kill-child", "--mount-proc"] as const;
/** As root, another user's process is played by the filler running as nobody. */
const NOBODY = { uid: 65534, gid: 65534 };
const asRoot = process.getuid?.() === 0;

interface Outcome {
  ok: boolean;
  value?: string;
  error?: string;
}

interface Filler {
  readonly child: ChildProcess;
  /** Its outcome, or "still waiting" when it has not ended within WAIT_LIMIT_MS (then it is killed). */
  readonly outcome: Promise<Outcome | "still waiting">;
  /** Resolves once the process has called fillOnce, so has found the lock taken (or taken it). */
  readonly metLock: () => Promise<void>;
}

/** A process filling `dir` now (through `prefix`, e.g. unshare), held in its fill until `hold` exists. */
function filler(
  dir: string,
  opts: {
    hold?: string;
    prefix?: readonly string[];
    user?: { uid: number; gid: number };
    env?: Record<string, string>;
  } = {},
): Filler {
  const calling = `${dir}-calling-${Math.random().toString(36).slice(2)}`;
  // as nobody, from a copy of the checkout where nobody cannot read it (a clone under /root)
  const at = loadableAs(opts.user, PROCESS);
  const node = [process.execPath, "--conditions=source", "--import", "tsx", at.file, dir, "0"];
  if (opts.hold !== undefined) node.push(opts.hold);
  const [cmd, ...args] = [...(opts.prefix ?? []), ...node] as [string, ...string[]];
  const env = { ...process.env, FILL_ONCE_CALLING_FILE: calling, ...opts.env };
  const child = spawn(cmd, args, { cwd: at.root, stdio: ["ignore", "pipe", "inherit"], env, ...opts.user });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  const ended = new Promise<Outcome>((resolve, reject) =>
    child.once("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim()) as Outcome) : reject(new Error(`exit ${code}: ${out}`)),
    ),
  );
  const limit = sleep(WAIT_LIMIT_MS, "still waiting" as const, { ref: false }).then((v) => {
    child.kill("SIGKILL");
    return v;
  });
  const metLock = async (): Promise<void> => {
    while (!existsSync(calling)) {
      assert.ok(isRunning(child), "the filler ended before it called fillOnce");
      await sleep(50);
    }
    await sleep(1000); // fillOnce tries the lock synchronously once called: long done by now
  };
  return { child, outcome: Promise.race([ended, limit]), metLock };
}

function isRunning(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

function withDir(body: (dir: string, root: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), "fill-once-reused-pid-"));
    try {
      await body(join(root, "model"), root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

/** The lock's text once its taker has written it. */
async function writtenLock(lock: string, taker: ChildProcess): Promise<string> {
  for (;;) {
    assert.ok(isRunning(taker), "the filler ended before it held the lock");
    const text = existsSync(lock) ? readFileSync(lock, "utf8") : "";
    if (text !== "") return text;
    await sleep(50);
  }
}

/** Whether unprivileged `unshare` can give a process a pid namespace of its own here. */
function canUnsharePid(): boolean {
  return spawnSync(UNSHARE[0], [...UNSHARE.slice(1), "true"], { stdio: "ignore" }).status === 0;
}

describe("a cache lock whose filler's pid another process has now", () => {
  const takenOver = [
    {
      name: "a crashed filler's lock, its pid now a live process that started at another time, is taken over",
      reused: (text: string, pid: number): string => text.replace(/^\d+/, String(pid)),
    },
    {
      name: "a crashed filler's lock written before the last boot is taken over, whatever runs at its pid now",
      reused: (text: string, pid: number): string =>
        text.replace(/^\d+/, String(pid)).replaceAll(BOOT_ID, OTHER_BOOT_ID),
    },
  ];
  for (const c of takenOver) {
    it(
      c.name,
      withDir(async (dir, root) => {
        // a filler crashes while it fills: its lock stays as it wrote it
        const crashed = filler(dir, { hold: join(root, "never") });
        const text = await writtenLock(`${dir}.lock`, crashed.child);
        crashed.child.kill("SIGKILL");
        await crashed.outcome.catch(() => undefined);
        // the system gives its pid to a process that lives on (here: the lock names a sleep's pid)
        const other = spawn("sleep", ["600"], { stdio: "ignore" });
        try {
          writeFileSync(`${dir}.lock`, c.reused(text, other.pid!));
          const f = filler(dir);
          const outcome = await f.outcome;
          assert.notEqual(outcome, "still waiting", "the fill waited on the lock of a pid reused by `sleep`");
          assert.deepEqual(outcome, { ok: true, value: `filled by ${f.child.pid}` });
          assert.equal(readFileSync(join(dir, "value.txt"), "utf8"), `filled by ${f.child.pid}`);
          assert.equal(existsSync(`${dir}.lock`), false, "the lock is released");
          assert.ok(isRunning(other), "the process at the reused pid is left alone");
        } finally {
          other.kill("SIGKILL");
        }
      }),
    );
  }

  it(
    "a lock that says no start time (an older sfprompt's) is held while its pid lives",
    withDir(async (dir) => {
      const other = spawn("sleep", ["600"], { stdio: "ignore" });
      try {
        writeFileSync(`${dir}.lock`, String(other.pid));
        const f = filler(dir);
        await f.metLock();
        assert.ok(isRunning(f.child), "the fill did not wait for the lock's live pid");
        assert.equal(existsSync(dir), false);
        other.kill("SIGKILL"); // the older filler ends without releasing its lock: a crash
        const outcome = await f.outcome;
        assert.deepEqual(outcome, { ok: true, value: `filled by ${f.child.pid}` });
      } finally {
        other.kill("SIGKILL");
      }
    }),
  );

  it(
    "a lock naming the filler's own pid with no start time (an older filler's pid reused by it) is taken over",
    withDir(async (dir) => {
      // the filler writes DIR.lock = its own pid just before fillOnce: no process waits on itself
      const f = filler(dir, { env: { FILL_ONCE_OWN_PID_LOCK: "1" } });
      const outcome = await f.outcome;
      assert.notEqual(outcome, "still waiting", "the fill waited on a lock naming its own pid");
      assert.deepEqual(outcome, { ok: true, value: `filled by ${f.child.pid}` });
      assert.equal(readFileSync(join(dir, "value.txt"), "utf8"), `filled by ${f.child.pid}`);
      assert.equal(existsSync(`${dir}.lock`), false, "the lock is released");
    }),
  );

  it(
    "a lock this process's user cannot read is reported as one that cannot be read, not created; its rm -f, pasted into bash, removes only it",
    withDir(async (plain, root) => {
      // as root: the lock is root's, mode 0600, and the filler runs as nobody; else mode 000. A space,
      // a quote and a $ in the folder's name: the suggested command must quote it
      const dir = join(root, "it's $HOME model");
      const lock = `${dir}.lock`;
      writeFileSync(plain, "what an unquoted command would reach\n");
      const other = spawn("sleep", ["600"], { stdio: "ignore" });
      try {
        writeFileSync(lock, `${other.pid}\n`);
        chmodSync(lock, asRoot ? 0o600 : 0o000);
        if (asRoot) chmodSync(root, 0o777);
        const f = filler(dir, asRoot ? { user: NOBODY } : {});
        const outcome = await f.outcome;
        if (outcome === "still waiting") assert.fail("the fill waited on a lock it cannot read");
        assert.equal(outcome.ok, false);
        const uid = asRoot ? NOBODY.uid : process.getuid!();
        const gid = asRoot ? NOBODY.gid : process.getgid!();
        assert.equal(
          outcome.error,
          `CacheDirError: cache folder ${root}: its lock ${lock} cannot be read by this process's user ` +
            `(uid ${uid}, gid ${gid}; EACCES): make it readable (chmod a+r ${shellQuote(lock)}), or, if no ` +
            `process is filling ${dir} now, remove it (rm -f ${shellQuote(lock)}, as its owner or root); ` +
            `set SFPROMPT_CACHE (sfprompt demo-model: --cache DIR) to a folder this user can write`,
        );
        assert.equal(existsSync(dir), false);
        // its owner runs the rm once the process it names is gone: only the lock goes, and a fill then works
        other.kill("SIGKILL");
        const rm = /remove it \((rm -f .*?), as its owner or root\)/.exec(outcome.error)?.[1];
        assert.ok(rm !== undefined, outcome.error);
        const before = readdirSync(root).sort();
        const r = spawnSync("bash", ["-c", rm], { cwd: root, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(
          readdirSync(root).sort(),
          before.filter((n) => n !== basename(lock)),
        );
        const next = filler(dir, asRoot ? { user: NOBODY } : {});
        assert.deepEqual(await next.outcome, { ok: true, value: `filled by ${next.child.pid}` });
      } finally {
        other.kill("SIGKILL");
      }
    }),
  );

  it(
    "a lock naming a live process of another user (kill answers EPERM) is held until it is released",
    withDir(async (dir, root) => {
      // as root: the filler runs as nobody and the lock names root's `sleep`; else root's init
      const other = asRoot ? spawn("sleep", ["600"], { stdio: "ignore" }) : undefined;
      try {
        if (asRoot) chmodSync(root, 0o777);
        writeFileSync(`${dir}.lock`, String(other?.pid ?? 1));
        const f = filler(dir, asRoot ? { user: NOBODY } : {});
        await f.metLock();
        assert.ok(isRunning(f.child), "the fill took another user's live process for a crashed filler");
        assert.equal(existsSync(dir), false);
        rmSync(`${dir}.lock`); // that process releases the lock
        assert.deepEqual(await f.outcome, { ok: true, value: `filled by ${f.child.pid}` });
      } finally {
        other?.kill("SIGKILL");
      }
    }),
  );

  it(
    "a live filler's lock, with the start time it wrote, is held: the other process reads its value",
    withDir(async (dir, root) => {
      const hold = join(root, "go-on");
      const first = filler(dir, { hold });
      const text = await writtenLock(`${dir}.lock`, first.child);
      const ns = readlinkSync("/proc/self/ns/pid").replace(/[[\]]/g, "\\$&");
      assert.match(text, new RegExp(`^${first.child.pid}\nstarted ${BOOT_ID} \\d+\npidns ${ns}\n$`));
      const second = filler(dir);
      await second.metLock();
      assert.ok(isRunning(second.child), "the second fill did not wait for the live filler");
      assert.equal(existsSync(dir), false);
      writeFileSync(hold, "");
      const value = `filled by ${first.child.pid}`;
      assert.deepEqual(await first.outcome, { ok: true, value });
      assert.deepEqual(await second.outcome, { ok: true, value });
    }),
  );

  it(
    "a live filler's lock written in another pid namespace (a container sharing the cache) is held",
    { skip: canUnsharePid() ? false : "unshare cannot make a pid namespace here (no user namespaces)" },
    withDir(async (dir, root) => {
      const hold = join(root, "go-on");
      // the filler is pid 1 of its namespace: here, pid 1 is init, which started at another time
      const first = filler(dir, { hold, prefix: UNSHARE });
      const text = await writtenLock(`${dir}.lock`, first.child);
      assert.match(text, /^1\nstarted \S+ \d+\npidns pid:\[\d+\]\n$/);
      const second = filler(dir);
      await second.metLock();
      assert.ok(isRunning(second.child), "the second fill took over a live filler's lock");
      assert.equal(existsSync(dir), false);
      writeFileSync(hold, "");
      assert.deepEqual(await first.outcome, { ok: true, value: "filled by 1" });
      assert.deepEqual(await second.outcome, { ok: true, value: "filled by 1" });
    }),
  );
});
