// The process shell (runProcess, in this process, on a real nats-server) when its role's work ends
// with the job's finish as its error: runClient rethrows JobFinishedError when SIGTERM came as a
// finish stopped its round (ADR 0041 amendment 13). A finished job is no failure: the process says
// the job finished and exits 0, as on the ordinary finish path, never runtime.failed / exit 3.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JobFinishedError } from "@sfprompt/core";
import { EXIT } from "../src/exit-codes.js";
import type { RoleContext, RoleDefinition } from "../src/role.js";
import { runProcess } from "../src/run-process.js";
import { runConfig, type LogLine } from "./harness.js";
import { useProcessFixture } from "./process-fixture.js";

const f = useProcessFixture();

/** A client role whose work ends with the job's finish once `until` says so. */
function finishingRole(until: (ctx: RoleContext) => Promise<void>): RoleDefinition {
  return {
    role: "client",
    processName: (s) => `client-${s.clientIndex ?? 0}`,
    watchEvents: false,
    async run(ctx) {
      ctx.markReady();
      await until(ctx);
      throw new JobFinishedError(ctx.config.names.job, "job-event", { cause: { type: "job.finished" } });
    },
  };
}

async function runRole(
  role: RoleDefinition,
  name: string,
  onLog?: (l: LogLine) => void,
): Promise<{ code: number; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const args = [...f.entryArgs(runConfig({}, name), name), "--client-index", "0"];
  const code = await runProcess(
    role,
    args,
    {},
    {
      writeLog: (line) => {
        const l = JSON.parse(line) as LogLine;
        logs.push(l);
        onLog?.(l);
      },
    },
  );
  return { code, logs };
}

function checkFinished(logs: readonly LogLine[], code: number): void {
  const trace = logs.map((l) => JSON.stringify(l)).join("\n");
  assert.equal(code, EXIT.ok, trace);
  assert.deepEqual(
    logs.filter((l) => l.level === "error").map((l) => l.event),
    [],
    trace,
  );
  const finished = logs.find((l) => l.event === "runtime.job-finished");
  assert.equal(finished?.level, "info", trace);
  assert.equal(finished.learnedFrom, "job-event");
  assert.equal(logs.at(-1)?.event, "process.exit");
  assert.equal(logs.at(-1)?.code, 0);
}

describe("a process whose work ends with the job's finish", () => {
  it("says the job finished and exits 0 (it was runtime.failed, exit 3)", async () => {
    const { code, logs } = await runRole(
      finishingRole(async () => undefined),
      "finished-plain",
    );
    checkFinished(logs, code);
  });

  it("says the job finished and exits 0 when SIGTERM came as the finish stopped its work", async () => {
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const run = runRole(
      // the finish lands while the shutdown that SIGTERM started is under way, as in runClient
      finishingRole(
        (ctx) =>
          new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true })),
      ),
      "finished-sigterm",
      (l) => {
        if (l.event === "runtime.ready") ready();
      },
    );
    await isReady;
    process.kill(process.pid, "SIGTERM"); // the shell's own handler takes it (a real signal)
    const { code, logs } = await run;
    assert.ok(logs.some((l) => l.event === "shutdown.started" && l.reason === "signal"));
    checkFinished(logs, code);
  });
});
