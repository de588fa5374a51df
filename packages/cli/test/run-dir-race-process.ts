// One process of the run-dir race test: waits for the agreed instant, then takes the run directory
// DIR as `sfprompt run` does (lockRunDir), holds it until HOLD_UNTIL_MS, and prints the outcome as
// one JSON line. Usage: run-dir-race-process.ts DIR START_MS HOLD_UNTIL_MS
import { lockRunDir } from "../src/run/run-lock.js";

const [dir, start, holdUntil] = process.argv.slice(2) as [string, string, string];
// every process leaves this loop at the same instant, so their folder creations overlap
while (Date.now() < Number(start));
try {
  const release = lockRunDir(dir);
  while (Date.now() < Number(holdUntil));
  release();
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
}
