// A server process whose one-round job finished, lingering after it (ADR 0037): both clients trained
// the round in the test's process against the real nats-server of the file's fixture.
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
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
