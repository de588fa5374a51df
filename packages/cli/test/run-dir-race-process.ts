// One process of the run-dir race test, taking run directories as `sfprompt run` does (lockRunDir).
// While it holds a folder it keeps HOLDER_FILE in it, made exclusively: a second process holding
// the folder at the same time finds it there ("shared": two runs writing one folder).
// Usage: run-dir-race-process.ts DIR GO RELEASE: prints "ready" once loaded, waits for the file
// GO, takes DIR and prints the outcome as one JSON line; a taker holds DIR until the file RELEASE
// exists, then releases it and prints "released".
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { lockRunDir } from "../src/run/run-lock.js";

const HOLDER_FILE = "holder";

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Marks `dir` as held by this process: false when another holder's mark is there. */
function markHeld(dir: string): boolean {
  try {
    closeSync(openSync(join(dir, HOLDER_FILE), "wx"));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function once(dir: string, go: string, release: string): void {
  process.stdout.write("ready\n");
  // every process leaves this loop as soon as GO appears, so their folder creations overlap
  while (!existsSync(go));
  let releaseDir: () => void;
  try {
    releaseDir = lockRunDir(dir);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
    return;
  }
  const shared = !markHeld(dir);
  process.stdout.write(`${JSON.stringify({ ok: true, shared })}\n`);
  while (!existsSync(release)) sleepSync(10);
  if (!shared) rmSync(join(dir, HOLDER_FILE));
  releaseDir();
  process.stdout.write("released\n");
}

const [dir, go, release] = process.argv.slice(2) as [string, string, string];
once(dir, go, release);
