// Metrics hooks that throw, over a whole job on a real nats-server: the clients' and the server's
// request and traffic hooks all throw, the job still runs to its end, and every failure is an
// `observer-failed` line in the structured log of the side whose hook threw (its job and client
// fields included), none a process warning on stderr outside the log (ADR 0017, amendment 4).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { jsonLogger } from "@sfprompt/core";
import {
  clientResults,
  jobConfig,
  natsAndBundleHooks,
  startClients,
  startTestServer,
} from "./job-fixture.js";

const w = natsAndBundleHooks();
const warnings: Error[] = [];
const onWarning = (e: Error): void => void warnings.push(e);
before(() => process.on("warning", onWarning));
after(() => process.off("warning", onWarning));

const boom = (): never => {
  throw new Error("the metrics sink is broken");
};

/** A JSON logger whose lines are kept, parsed. */
function keptLogger(): { logger: ReturnType<typeof jsonLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: jsonLogger({ level: "warn", write: (l) => lines.push(JSON.parse(l)) }) };
}

test("a job whose metrics hooks all throw runs to its end and logs each failure as observer-failed, never as a warning", async () => {
  const config = jobConfig({
    clients: { count: 2, perRound: { count: 2 } },
    training: { rounds: 1, quorum: { count: 2 } },
  });
  const clientLog = keptLogger();
  const serverLog = keptLogger();
  const stop = new AbortController();
  const clients = await startClients(config, {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    signal: stop.signal,
    logger: clientLog.logger,
    onRequest: boom,
    onTraffic: boom,
  });
  const server = await startTestServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    logger: serverLog.logger,
    onRequest: boom,
    onTraffic: boom,
  });
  try {
    await server.done;
    assert.deepEqual(
      (await clientResults(clients)).flatMap((r) => r.rounds),
      [1, 1],
    );
    // a warning is emitted on the next tick: wait past it
    await new Promise((r) => setImmediate(r));

    assert.deepEqual(
      warnings.map((e) => e.name),
      [],
      "no process warning",
    );
    const failed = (lines: Record<string, unknown>[]): Record<string, unknown>[] =>
      lines.filter((l) => l.event === "observer-failed");
    const hooks = (lines: Record<string, unknown>[]): string[] =>
      [...new Set(failed(lines).map((l) => String(l.hook)))].sort();
    assert.deepEqual(
      hooks(clientLog.lines),
      ["observe", "traffic observer"],
      "the clients' requester and ledger",
    );
    assert.deepEqual(
      hooks(serverLog.lines),
      ["observe", "traffic observer"],
      "the server's services and ledger",
    );
    for (const l of [...failed(clientLog.lines), ...failed(serverLog.lines)]) {
      assert.equal(l.level, "error");
      assert.equal(l.job, config.names.job);
      assert.match(String(l.error), /the metrics sink is broken/);
    }
    // the lines carry each client's field, as the client's other lines do
    const named = new Set(failed(clientLog.lines).map((l) => l.client));
    assert.equal(named.size, 2, `both clients: ${[...named].join(", ")}`);
  } finally {
    stop.abort();
    await Promise.all(clients.map((c) => c.done));
  }
});
