// Runs killed while they were taking over a killed run's folder (ADR 0016 amendments 4 and 7): each
// leaves its takeover file; however many there are, the next run takes the folder over and removes
// every file they left. Real taking processes, SIGKILLed while they wait for the killed run's
// nats-server (one that ignores SIGTERM) to stop.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LOCK_FILE, lockRunDir } from "../src/run/run-lock.js";

const HOLDER = new URL("./run-lock-holder-process.ts", import.meta.url).pathname;
/** More than the 8 dead takers after which the folder used to count as held. */
const DEAD_TAKERS = 10;

/** The pid of a process that has exited: a killed run's. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  assert.equal(child.status, 0);
  return child.pid;
}

function exitOf(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once("exit", () => resolve()));
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A process that looks like a nats-server (its cmdline) and outlives SIGTERM: a taker waits on it. */
async function stubbornNatsServer(): Promise<ChildProcess> {
  const p = spawn("bash", ["-c", 'trap "" TERM; exec -a nats-server sleep 600'], { stdio: "ignore" });
  await waitFor("the stub to be a nats-server", () => {
    try {
      return readFileSync(`/proc/${p.pid}/cmdline`, "utf8").startsWith("nats-server\0") || undefined;
    } catch {
      return undefined;
    }
  });
  return p;
}

/** The folder's lock files other than the lock itself whose first line is `pid`. */
function filesOf(dir: string, pid: number): string[] {
  return readdirSync(dir).filter((f) => {
    if (f === LOCK_FILE) return false;
    try {
      return readFileSync(join(dir, f), "utf8").split("\n")[0] === String(pid);
    } catch {
      return false;
    }
  });
}

/** Starts a run taking `dir` over and SIGKILLs it once it has made its takeover file. */
async function killWhileTaking(dir: string, k: number): Promise<void> {
  let stderr = "";
  const taker = spawn(process.execPath, ["--conditions=source", "--import", "tsx", HOLDER, dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  taker.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = exitOf(taker);
  try {
    await Promise.race([
      waitFor(`taker ${k}'s takeover file`, () => (filesOf(dir, taker.pid!).length > 0 ? true : undefined)),
      exited.then(() => {
        throw new Error(`taker ${k} ended before it made its takeover file: ${stderr}`);
      }),
    ]);
  } finally {
    taker.kill("SIGKILL");
    await exited;
  }
}

describe("a killed run's folder after runs that died taking it over", () => {
  it("the next run takes it over however many died, stops the killed run's nats-server, and removes every file they left", async () => {
    const dir = mkdtempSync(join(tmpdir(), "run-lock-dead-takers-"));
    const nats = await stubbornNatsServer();
    try {
      writeFileSync(join(dir, LOCK_FILE), `${deadPid()}\nnats ${nats.pid}\n`);
      for (let k = 1; k <= DEAD_TAKERS; k++) await killWhileTaking(dir, k);
      assert.equal(readdirSync(dir).length, DEAD_TAKERS + 1, "each killed taker left its file");
      const release = lockRunDir(dir);
      assert.deepEqual(readdirSync(dir), [LOCK_FILE], "the dead takers' files are gone");
      assert.equal(readFileSync(join(dir, LOCK_FILE), "utf8").split("\n")[0], String(process.pid));
      await exitOf(nats); // SIGKILLed after its 5 s of SIGTERM
      assert.equal(nats.signalCode, "SIGKILL");
      release();
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      nats.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the takeover files an older sfprompt's takers left (named by pid) are removed by the run that takes over", () => {
    const dir = mkdtempSync(join(tmpdir(), "run-lock-dead-takers-"));
    try {
      const [killed, a, b] = [deadPid(), deadPid(), deadPid()];
      writeFileSync(join(dir, LOCK_FILE), `${killed}\n`);
      writeFileSync(join(dir, `${LOCK_FILE}.${killed}`), `${a}\n`);
      writeFileSync(join(dir, `${LOCK_FILE}.${killed}.${a}`), `${b}\n`);
      const release = lockRunDir(dir);
      assert.deepEqual(readdirSync(dir), [LOCK_FILE]);
      release();
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a takeover file a run left while another held the folder is removed when the holder lets go", () => {
    const root = mkdtempSync(join(tmpdir(), "run-lock-dead-takers-"));
    const dir = join(root, "run");
    try {
      const release = lockRunDir(dir);
      // a run that read the lock before this one took it over, made its takeover file after, and was
      // killed before it found the lock held and removed that file
      writeFileSync(join(dir, `${LOCK_FILE}.taking-1`), `${deadPid()}\n`);
      release();
      assert.deepEqual(readdirSync(root), [], "the run folder it made is removed, nothing left in it");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
