// A server process whose one-round job finished, lingering after it (ADR 0037): both clients trained
// the round in the test's process against the real nats-server of the file's fixture.
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { openRoundState, RoundStateConflictError } from "@sfprompt/protocol";
import { ENTRY, runConfig, spawnEntry, type Proc } from "../../shell/test/harness.js";
import type { ProcessFixture } from "../../shell/test/process-fixture.js";
import { clientResults, startClients } from "../../../packages/sfprompt/test/runtime/job-fixture.js";

/** The environment that keeps the server up after its job's end. */
export const LINGER = { SFPROMPT_LINGER_AFTER_FINISH: "true" };

/** Starts the server of a one-round job and trains it with both clients; resolves once they are gone. */
export async function finishedJob(f: ProcessFixture, name: string): Promise<{ proc: Proc; job: string }> {
  const config = runConfig({ training: { rounds: 1 } }, name);
  const proc = spawnEntry(ENTRY.server, f.entryArgs(config, name), LINGER);
  const clients = await startClients(config, {
    connect: () => connect({ servers: f.nats.url }),
    bundle: f.bundle.dir,
    retryDelayMs: 100,
  });
  try {
    const results = await clientResults(clients);
    assert.deepEqual(
      results.map((r) => r.rounds),
      [[1], [1]],
      "both clients had round 1 accepted",
    );
  } finally {
    await Promise.all(clients.map((c) => c.nc.close()));
  }
  return { proc, job: config.names.job };
}

/** The lingering server's /metrics port, once only its end replies listen (the `end-replies` line). */
export async function lingeringPort(proc: Proc): Promise<number> {
  const port = Number((await proc.waitForLog((l) => l.event === "http.listening")).port);
  await proc.waitForLog((l) => l.event === "end-replies", 60_000);
  return port;
}

/** What grew from `before` to `after`, series that did not move left out. */
export function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

/**
 * Another coordinator's write of the job's round state, at the revision it holds now: the server's
 * next write of it is refused (RoundStateConflictError) and the job fails. The server may write
 * between this read and this write (it moves on to its next round): then it reads again.
 */
export async function failByConflictingWrite(nc: NatsConnection, job: string): Promise<void> {
  const states = await openRoundState(nc, job, { create: false });
  for (;;) {
    const current = await states.get();
    assert.ok(current, "the server wrote the round state");
    try {
      await states.put(current.state, current.revision);
      return;
    } catch (err) {
      if (!(err instanceof RoundStateConflictError)) throw err;
    }
  }
}
