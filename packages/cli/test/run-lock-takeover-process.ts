// One process of the run-lock takeover race test: for each of TRIALS run directories ROOT/t<k>, each
// holding the lock a killed run left, waits for the agreed instant START_MS + k * STEP_MS and takes
// the folder as `sfprompt run` does (lockRunDir), holding what it took until its stdin
// closes.
// Prints the outcomes as one JSON line once it has tried every folder. Usage: run-lock-takeover-process.ts ROOT TRIALS START_MS STEP_MS
import { join } from "node:path";
import { lockRunDir } from "../src/run/run-lock.js";

const [root, trials, start, step] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a))) as [
  string,
  number,
  number,
  number,
];
const outcomes: { ok: boolean; error?: string }[] = [];
const releases: (() => void)[] = [];
for (let k = 0; k < trials; k++) {
  // every process leaves this loop at the same instant, so that they read the dead lock together
  while (Date.now() < start + k * step);
  try {
    releases.push(lockRunDir(join(root, `t${k}`)));
    outcomes.push({ ok: true });
  } catch (error) {
    outcomes.push({ ok: false, error: (error as Error).message });
  }
}
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
// held until the test closes stdin, once every process has tried every folder, so that a loser meets a
// live holder however late it started (a time-based hold let a process that loaded late take all)
process.stdin.resume();
process.stdin.once("end", () => {
  for (const release of releases) release();
});
