// One process of the fill-once race test: waits for the agreed instant, then fills (or reads) the
// cache folder DIR and prints the outcome as one JSON line.
// Usage: fill-once-process.ts DIR START_MS [HOLD_FILE]
// With HOLD_FILE, a fill (lock held) goes on only once that file exists: a filler still at work.
// With FILL_ONCE_CALLING_FILE set, that file is written just before fillOnce is called (which tries
// the lock before it first waits): a test knows from then on that the process has met the lock.
// With FILL_ONCE_OWN_PID_LOCK set, DIR.lock is first written holding this process's pid alone (no
// start line): an older sfprompt's lock whose pid the system has given to this very process.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fillOnce } from "../../src/cache/fill-once.js";

const [dir, start, hold] = process.argv.slice(2) as [string, string, string | undefined];
const file = join(dir, "value.txt");
// every process leaves this loop at the same instant, so their folder creations overlap
while (Date.now() < Number(start));
if (process.env.FILL_ONCE_OWN_PID_LOCK) writeFileSync(`${dir}.lock`, `${process.pid}\n`);
const calling = process.env.FILL_ONCE_CALLING_FILE;
if (calling) writeFileSync(calling, String(process.pid));
try {
  const value = await fillOnce({
    dir,
    read: () => (existsSync(file) ? readFileSync(file, "utf8") : undefined),
    fill: async (tmp) => {
      while (hold !== undefined && !existsSync(hold)) await sleep(50);
      writeFileSync(join(tmp, "value.txt"), `filled by ${process.pid}`);
      return `filled by ${process.pid}`;
    },
  });
  process.stdout.write(`${JSON.stringify({ ok: true, value })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error) })}\n`);
}
