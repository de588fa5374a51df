// `sfprompt run`s that start together on run directories under a parent that does not exist yet
// (a script starting one run per job, each --out under one new folder): each makes the levels it
// finds missing, and a level another run made first is no error. Real processes, taking the run
// directory as `sfprompt run` does; on one folder, one of them holds it, also where the others read
// its lock between its exclusive create and its pid write. No step waits for a time: the processes
// are let go once every one has loaded (loading takes seconds, and tens of seconds on a loaded
// machine), and a taker holds its folder until every process has told its outcome. Runs that start
// while another run on the folder, or on a sibling under a folder it made, releases it (and removes
// the folders it made, now empty) take their folder or are told it is in use. Folders a run made
// that another run keeps from being empty (its lock in them, or its folder below them) are left to
// that run, whose release removes them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";

const PROCESS = new URL("./run-dir-race-process.ts", import.meta.url).pathname;
const PROCESSES = 8;
const TRIALS = 4;

interface Outcome {
  ok: boolean;
  shared?: boolean;
  error?: string;
}

interface Child {
  pid: number;
  /** Ends the process if it still runs (a failed case's). */
  kill: () => void;
  /** The process's next stdout line. */
  line: () => Promise<string>;
  exited: Promise<void>;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", PROCESS, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve, reject) =>
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]}: exit ${code}`)))),
  );
  const line = async (): Promise<string> => {
    const next = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: "" }))]);
    if (next.done === true) throw new Error(`${args[0]}: ended before its next line`);
    return next.value;
  };
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  exited.catch(() => undefined); // awaited by the cases; a killed one's rejection is not theirs
  return { pid: child.pid ?? 0, kill, line, exited };
}

/** PROCESSES processes take `dirOf(trial, i)` at once, TRIALS times; their outcomes per trial. */
async function race(dirOf: (root: string, trial: number, i: number) => string): Promise<Outcome[][]> {
  const root = mkdtempSync(join(tmpdir(), "run-dir-race-"));
  const running: Child[] = [];
  try {
    const trials: Outcome[][] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const go = join(root, `go-${trial}`);
      const release = join(root, `release-${trial}`);
      const children = Array.from({ length: PROCESSES }, (_, i) =>
        start([dirOf(root, trial, i), go, release]),
      );
      running.push(...children);
      for (const child of children) assert.equal(await child.line(), "ready");
      writeFileSync(go, "");
      const outcomes = await Promise.all(children.map(async (c) => JSON.parse(await c.line()) as Outcome));
      writeFileSync(release, "");
      await Promise.all(children.map((c) => c.exited));
      trials.push(outcomes);
    }
    return trials;
  } finally {
    for (const child of running) child.kill();
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
      outcomes.filter((o) => !o.ok || o.shared === true),
      [],
      `trial ${trial}`,
    ),
  );
});

test("runs on one new folder: one takes it, the others are told it is in use (not that it is a file), also while its lock is being written", async () => {
  const trials = await race((root, trial) => join(deep(root, trial), "run"));
  trials.forEach((outcomes, trial) => {
    assert.deepEqual(
      outcomes.filter((o) => o.ok),
      [{ ok: true, shared: false }],
      `trial ${trial}: ${JSON.stringify(outcomes)}`,
    );
    for (const o of outcomes.filter((x) => !x.ok))
      assert.match(
        o.error ?? "",
        /: is in use by another sfprompt run \((pid \d+|starting)\)/,
        `trial ${trial}`,
      );
  });
});

/** The numbers of the system calls `names` on this machine (Linux x86-64 and arm64). */
const SYSCALLS: Record<string, Record<string, number[]>> = {
  x64: { mkdir: [83, 258], open: [2, 257] },
  arm64: { mkdir: [34], open: [56] },
};

/** Whether `pid` is stopped in one of the system calls `numbers` (/proc/PID/syscall: its number first). */
function inSyscall(pid: number, numbers: number[]): boolean {
  const first = readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0];
  return numbers.includes(Number(first));
}

/**
 * Holds `pid`'s next `call` (mkdir or open, with their *at forms) for `ms` at its entry: strace
 * attached to the running process, its delay injection on that call's first use. Resolves once
 * attached; the returned function stops strace.
 */
async function delayNext(pid: number, call: "mkdir" | "open", ms: number): Promise<() => Promise<void>> {
  const calls = `${call},${call}at`;
  const strace = spawn(
    "strace",
    [
      "-p",
      String(pid),
      "-o",
      "/dev/null",
      "-e",
      `trace=${calls}`,
      "-e",
      `inject=${calls}:delay_enter=${ms * 1000}:when=1`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  await new Promise<void>((resolve, reject) => {
    strace.stderr.on("data", (b: Buffer) => {
      err += b.toString();
      if (err.includes("attached")) resolve();
    });
    strace.once("error", (error) =>
      reject(new Error(`this case needs strace (and ptrace) to hold a system call: ${error.message}`)),
    );
    strace.once("close", (code) => reject(new Error(`strace ended (${code}) before it attached: ${err}`)));
  });
  return async () => {
    if (strace.exitCode !== null) return;
    const closed = new Promise((resolve) => strace.once("close", resolve));
    strace.kill("SIGTERM");
    await closed;
  };
}

// The moment another run's release removes a folder that a starting run has found there but not yet
// made its own folder (or lock) in lasts microseconds; strace holds the starting run's mkdir (or the
// open of its lock) at its entry until the other run has released, so that it comes every time.
test("a run that starts while another run releases removes the folders it made takes its folder, also when it is that run's folder", async () => {
  const calls = SYSCALLS[process.arch];
  assert.ok(calls !== undefined, `no system call numbers for ${process.arch}`);
  for (const { other, mine, held } of [
    // a sibling's release removes the parent it made: this run's mkdir of its folder there is held
    { other: "new/a/run-1", mine: "new/a/run-2", held: "mkdir" as const },
    // the run before on this folder releases and removes it: the open of this run's lock is held
    { other: "new/a/run", mine: "new/a/run", held: "open" as const },
  ]) {
    const root = mkdtempSync(join(tmpdir(), "run-dir-release-"));
    const at = (name: string): string => join(root, name);
    const children: Child[] = [];
    try {
      const before = start([at(other), at("go-other"), at("release-other")]);
      children.push(before);
      assert.equal(await before.line(), "ready");
      writeFileSync(at("go-other"), "");
      assert.deepEqual(JSON.parse(await before.line()), { ok: true, shared: false });

      const starting = start([at(mine), at("go"), at("release")]);
      children.push(starting);
      assert.equal(await starting.line(), "ready");
      const stopStrace = await delayNext(starting.pid, held, 20_000);
      try {
        writeFileSync(at("go"), "");
        while (!inSyscall(starting.pid, calls[held] ?? [])) await sleep(20);
        writeFileSync(at("release-other"), "");
        assert.equal(await before.line(), "released");
        await before.exited;
        // the release removed every folder it made, the one the held call works in too
        assert.equal(existsSync(at("new")), false, `${mine}: the release before left new/`);
        assert.ok(
          inSyscall(starting.pid, calls[held] ?? []),
          `${mine}: the ${held} was let go before the release`,
        );
      } finally {
        await stopStrace(); // lets the held call go at once
      }
      assert.deepEqual(
        JSON.parse(await starting.line()),
        { ok: true, shared: false },
        `${other} then ${mine}`,
      );
      writeFileSync(at("release"), "");
      assert.equal(await starting.line(), "released");
      await starting.exited;
      // it made the folders again and removed them at its release
      assert.equal(existsSync(at("new")), false, `${mine}: its release left new/`);
    } finally {
      for (const child of children) child.kill();
      rmSync(root, { recursive: true, force: true });
    }
  }
});

// A run that made its folder (and the new folders above it) and then found the folder's lock taken
// by a run that started together cannot remove them: the other run's lock is in them. It leaves them
// to the holder, whose release removes them while empty (ADR 0016 amendment 32); strace holds the
// open of the first run's lock, after its mkdirs, until the other run has taken the folder.
test("a run that made the folders and finds the lock held leaves them to the holder's release", async () => {
  const calls = SYSCALLS[process.arch];
  assert.ok(calls !== undefined, `no system call numbers for ${process.arch}`);
  const root = mkdtempSync(join(tmpdir(), "run-dir-held-"));
  const at = (name: string): string => join(root, name);
  const children: Child[] = [];
  try {
    const maker = start([at("new/a/run"), at("go-maker"), at("release-maker")]);
    const holder = start([at("new/a/run"), at("go-holder"), at("release-holder")]);
    children.push(maker, holder);
    assert.equal(await maker.line(), "ready");
    assert.equal(await holder.line(), "ready");
    const stopStrace = await delayNext(maker.pid, "open", 60_000);
    try {
      writeFileSync(at("go-maker"), "");
      while (!inSyscall(maker.pid, calls.open ?? [])) await sleep(20);
      assert.ok(existsSync(at("new/a/run")), "the first run made the folders before its lock's open");
      writeFileSync(at("go-holder"), "");
      assert.deepEqual(JSON.parse(await holder.line()), { ok: true, shared: false });
    } finally {
      await stopStrace(); // lets the held open go at once
    }
    const refused = JSON.parse(await maker.line()) as Outcome;
    assert.equal(refused.ok, false);
    assert.match(
      refused.error ?? "",
      new RegExp(`is in use by another sfprompt run \\(pid ${holder.pid}\\)`),
    );
    await maker.exited;
    assert.ok(existsSync(at("new/a/run")), "the holder's folder stays while it holds it");
    writeFileSync(at("release-holder"), "");
    assert.equal(await holder.line(), "released");
    await holder.exited;
    assert.equal(existsSync(at("new")), false, "the holder's release removed the folders the first run made");
  } finally {
    for (const child of children) child.kill();
    rmSync(root, { recursive: true, force: true });
  }
});

// Runs on sibling folders under a new parent: the first made the parent, the second found it there.
// The first to release cannot remove the parent (the other run's folder is in it) and leaves it to
// that run, whose release removes it while empty (ADR 0016 amendment 32), in either order.
test("runs on sibling folders under a new parent: the last to release removes the parent the first made", async () => {
  for (const firstReleases of [true, false]) {
    const root = mkdtempSync(join(tmpdir(), "run-dir-siblings-"));
    const at = (name: string): string => join(root, name);
    const children: Child[] = [];
    try {
      const maker = start([at("new/p/a"), at("go-a"), at("release-a")]);
      const sibling = start([at("new/p/b"), at("go-b"), at("release-b")]);
      children.push(maker, sibling);
      assert.equal(await maker.line(), "ready");
      assert.equal(await sibling.line(), "ready");
      writeFileSync(at("go-a"), "");
      assert.deepEqual(JSON.parse(await maker.line()), { ok: true, shared: false });
      writeFileSync(at("go-b"), "");
      assert.deepEqual(JSON.parse(await sibling.line()), { ok: true, shared: false });
      const [one, two] = firstReleases ? [maker, sibling] : [sibling, maker];
      const [relOne, relTwo] = firstReleases ? ["release-a", "release-b"] : ["release-b", "release-a"];
      writeFileSync(at(relOne), "");
      assert.equal(await one.line(), "released");
      await one.exited;
      assert.ok(existsSync(at("new/p")), "the parent stays while the other run holds its folder");
      writeFileSync(at(relTwo), "");
      assert.equal(await two.line(), "released");
      await two.exited;
      assert.equal(
        existsSync(at("new")),
        false,
        `${firstReleases ? "the run that made it" : "the other run"} released first: new/ is removed`,
      );
    } finally {
      for (const child of children) child.kill();
      rmSync(root, { recursive: true, force: true });
    }
  }
});
