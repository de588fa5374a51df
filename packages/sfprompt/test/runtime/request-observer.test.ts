// The runtime's request observers over a whole job on a real nats-server: the server's services and
// the clients tell every request of a one-round split job, under the fixed operations, and the counts
// agree with what the body service ran and what the server accepted.
import assert from "node:assert/strict";
import { test } from "node:test";
import { REQUEST_OPS, jsonLogger, type RequestObserver, type RequestOp } from "@sfprompt/core";
import type { RequestOutcome } from "@sfprompt/protocol";
import {
  clientResults,
  jobConfig,
  natsAndBundleHooks,
  startClients,
  startTestServer,
} from "./job-fixture.js";

const w = natsAndBundleHooks();

/**
 * Observations counted by `op/outcome`; an unknown op or a duration that is no number of seconds is
 * kept in `odd` (not thrown: the data plane reports a throwing observer and goes on).
 */
function counter(): {
  observe: RequestObserver;
  counts: Map<string, number>;
  odd: string[];
  of(key: string): number;
} {
  const counts = new Map<string, number>();
  const odd: string[] = [];
  return {
    counts,
    odd,
    observe: (op: RequestOp, seconds: number, outcome: RequestOutcome) => {
      if (!REQUEST_OPS.includes(op) || !(seconds >= 0 && seconds < 120)) odd.push(`${op}: ${seconds} s`);
      counts.set(`${op}/${outcome}`, (counts.get(`${op}/${outcome}`) ?? 0) + 1);
    },
    of: (key) => counts.get(key) ?? 0,
  };
}

test("a one-round split job tells the server's and the clients' observers every request, by operation", async () => {
  // a request timeout far past any stall of a loaded machine: a request the server answered late and
  // the client sent again would be counted twice by the server (its reply cache answers the retry) and
  // once by the client. The clients' warn lines show that no request other than a poll was retried.
  const config = jobConfig({
    clients: { count: 2, perRound: { count: 2 } },
    training: { rounds: 1, quorum: { count: 2 } },
    transport: { requestTimeoutSeconds: 600 },
  });
  const warnings: Record<string, unknown>[] = [];
  const logger = jsonLogger({ level: "warn", write: (line) => warnings.push(JSON.parse(line)) });
  const clientSide = counter();
  const serverSide = counter();
  const stop = new AbortController();
  const clients = await startClients(config, {
    connect: () => w.nats.connect(),
    bundle: w.bundle.dir,
    signal: stop.signal,
    onRequest: clientSide.observe,
    logger,
  });
  const server = await startTestServer(config, {
    nc: w.nats.nc,
    bundle: w.bundle.dir,
    onRequest: serverSide.observe,
  });
  try {
    const result = await server.done;
    const accepted = (await clientResults(clients)).flatMap((r) => r.rounds);
    assert.deepEqual(accepted, [1, 1]);

    assert.deepEqual([...serverSide.odd, ...clientSide.odd], [], "known ops, durations in seconds");
    // the server answered each request once, with no error
    const ran = (sizes: number[]): number => sizes.reduce((a, b) => a + b, 0);
    assert.ok(result.bodyGroups !== null);
    assert.equal(serverSide.of("body-forward/ok"), ran(result.bodyGroups.forward), "every forward run");
    assert.equal(serverSide.of("body-backward/ok"), ran(result.bodyGroups.backward), "every backward run");
    assert.ok(serverSide.of("body-forward/ok") > 0);
    assert.equal(serverSide.of("params-global/ok"), 2);
    assert.equal(serverSide.of("params-upload/ok"), 2);
    assert.ok(serverSide.of("report/ok") > 0, "state reports");
    assert.ok(serverSide.of("poll/ok") > 0);
    assert.deepEqual(
      [...serverSide.counts.keys()].filter((k) => !k.endsWith("/ok")),
      [],
      "no error replies",
    );

    const retried = warnings.filter((l) => l.event === "request-retry");
    assert.deepEqual(retried, [], "no request but polls sent again: each sent once, answered once");
    // the clients saw the same requests answered (a poll the job's end aborted is theirs to drop)
    for (const op of ["body-forward", "body-backward", "params-global", "params-upload", "report"])
      assert.equal(clientSide.of(`${op}/ok`), serverSide.of(`${op}/ok`), op);
    assert.ok(clientSide.of("poll/ok") > 0 && clientSide.of("poll/ok") <= serverSide.of("poll/ok"));
    const other = [...clientSide.counts.keys()].filter((k) => !k.endsWith("/ok"));
    assert.ok(
      other.every((k) => k === "poll/unavailable"),
      `only polls after the server went may fail: ${other.join(", ")}`,
    );
  } finally {
    stop.abort();
    await Promise.all(clients.map((c) => c.done));
  }
});
