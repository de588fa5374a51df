// `sfprompt run` killed right after printing a round's line, while its server trains on (the CLI
// frozen there by a test seam, then SIGKILLed once its server finished the job), then run again on
// the same run directory, against a real nats-server: across both sessions every round is shown
// once, with the loss metrics.json records for it (ADR 0041, amendment 4).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import {
  isStopped,
  natsRunWorld,
  readRunMetrics,
  ROOT,
  runProcesses,
  sfprompt,
  waitUntil,
  writeTinyJob,
} from "./run-helpers.js";

const w = natsRunWorld("cli-killed-after-line-");
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const FREEZE = fileURLToPath(new URL("./freeze-after-line.ts", import.meta.url));

/** The round and loss of every line that shows a round (its own, an earlier session's, the resumed). */
function shownRounds(stderr: string): Array<[round: number, loss: string]> {
  return stderr
    .split("\n")
    .map((l) => /^tiny round (\d+)\/\d+ .*?loss=(\d+\.\d{4})/.exec(l))
    .filter((m) => m !== null)
    .map((m) => [Number(m[1]), m[2] as string]);
}

describe("sfprompt run killed between a round's line and the next", () => {
  it("the next session shows no round again, and every round shown is as metrics.json records it", async () => {
    const job = writeTinyJob(w.dir, "{ rounds: 3, batchSize: 16, evaluation: { maxSamples: 50 } }");
    const out = join(w.dir, "run");
    const cli = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        "--import",
        FREEZE,
        MAIN,
        "run",
        job,
        "--out",
        out,
        "--nats",
        w.nats.url,
      ],
      {
        cwd: ROOT,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, SFPROMPT_TEST_FREEZE_AFTER: "^tiny round 2/3 phase done " },
      },
    );
    let first = "";
    cli.stderr.on("data", (b: Buffer) => (first += b.toString()));
    const exited = new Promise<void>((resolve) => cli.once("exit", () => resolve()));
    try {
      await waitUntil("the first session froze after its round-2 line", () => isStopped(cli.pid!), 120_000);
      // its server trains round 3 and ends the job meanwhile; then the session is killed where it froze
      await waitUntil(
        "the frozen session's server and clients finished",
        () => runProcesses(out).length === 0,
        120_000,
      );
    } finally {
      cli.kill("SIGKILL");
      await exited;
    }
    assert.deepEqual(
      shownRounds(first).map(([round]) => round),
      [1, 2],
      first,
    );

    const second = sfprompt("run", job, "--out", out, "--nats", w.nats.url);
    assert.equal(second.code, 0, second.stderr);
    const shown = [...shownRounds(first), ...shownRounds(second.stderr)];
    const recorded = readRunMetrics(out).rounds.map((r): [number, string] => [r.round, r.loss.toFixed(4)]);
    assert.deepEqual(shown, recorded, `first session:\n${first}\nsecond session:\n${second.stderr}`);
    assert.match(second.stderr, /^tiny round 3\/3 resumed from its own checkpoint loss=/m);
  });
});
