// One process of the fill-once takeover race test: for each of TRIALS cache folders ROOT/t<k>/model,
// each with the lock a crashed filler left, waits for the agreed instant START_MS + k * STEP_MS and
// calls fillOnce on it (without waiting for the result: the next folder's instant comes first). A
// fill notes this pid in ROOT/t<k>/fills (one line per fill) and ends after FILL_MS. Prints the
// outcomes, in folder order, as one JSON line once every fillOnce has ended.
// Usage: fill-once-takeover-process.ts ROOT TRIALS START_MS STEP_MS FILL_MS
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fillOnce } from "../../src/cache/fill-once.js";

const [root, trials, start, step, fillMs] = process.argv
  .slice(2)
  .map((a, i) => (i === 0 ? a : Number(a))) as [string, number, number, number, number];

interface Outcome {
  ok: boolean;
  value?: string;
  error?: string;
}

const outcomes: Promise<Outcome>[] = [];
for (let k = 0; k < trials; k++) {
  // every process leaves this loop at the same instant, so that they read the dead lock together
  while (Date.now() < start + k * step);
  const dir = join(root, `t${k}`, "model");
  const file = join(dir, "value.txt");
  outcomes.push(
    fillOnce({
      dir,
      read: () => (existsSync(file) ? readFileSync(file, "utf8") : undefined),
      fill: async (tmp) => {
        appendFileSync(join(root, `t${k}`, "fills"), `${process.pid}\n`);
        await sleep(fillMs);
        writeFileSync(join(tmp, "value.txt"), `filled by ${process.pid}`);
        return `filled by ${process.pid}`;
      },
    }).then(
      (value) => ({ ok: true, value }),
      (error: unknown) => ({ ok: false, error: String(error) }),
    ),
  );
}
process.stdout.write(`${JSON.stringify(await Promise.all(outcomes))}\n`);
