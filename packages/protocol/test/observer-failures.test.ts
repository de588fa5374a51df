// Hooks that throw, over a real nats-server: a requester's and a responder's observe, a responder's
// onBadFrame and both ledgers' observers all throw, and every request still gets the reply it would
// get without them (data stays data, a refusal stays its own code), nothing rejects unhandled, and
// each failure is reported (the responder's hooks in its log; the ledgers' and requester's in the sink
// they were given, else as process warnings).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ObserverError,
  TrafficLedger,
  UnknownClientError,
  encodeFrame,
  jobSubjects,
  requestFrame,
  serveFrames,
} from "@sfprompt/protocol";
import { baseFrame, randomTensor } from "./builders.js";
import { useNats } from "./nats-hooks.js";

const MAX_PAYLOAD = 64 * 1024;
const job = baseFrame.job;
const subjects = jobSubjects(job);
const nats = useNats({ maxPayload: MAX_PAYLOAD });
const unhandled: unknown[] = [];
const warnings: Error[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
const onWarning = (w: Error): void => void warnings.push(w);

before(() => {
  process.on("unhandledRejection", onUnhandled);
  process.on("warning", onWarning);
});
after(() => {
  process.off("unhandledRejection", onUnhandled);
  process.off("warning", onWarning);
});

const boom = (): never => {
  throw new Error("the metrics sink is broken");
};

/** How many failures of the ledgers' observers and of the requester's observe are among `hooks`. */
function failuresByHook(hooks: readonly string[]): Record<string, number> {
  return Object.fromEntries(
    ["traffic observer", "observe"].map((h) => [h, hooks.filter((x) => x === h).length]),
  );
}

/**
 * One request on `subject` whose requester's observe and both ledgers' observers throw, with `sink`
 * given to each as the place for those failures; the data reply must still reach the caller.
 */
async function requestWithThrowingHooks(
  subject: string,
  sink: (e: ObserverError) => void,
  seed: number,
): Promise<void> {
  const responder = await serveFrames(nats.nc, {
    subject,
    job,
    handler: (req) => ({ tensors: req.tensors }),
    ledger: new TrafficLedger(boom, sink),
  });
  try {
    const o = {
      ledger: new TrafficLedger(boom, sink),
      observe: boom,
      onObserverError: sink,
      timeoutMs: 5000,
    };
    const t = randomTensor("hidden", [2, 8], seed);
    const reply = await requestFrame(nats.nc, subject, { ...baseFrame, tensors: [t] }, o);
    assert.deepEqual(reply.tensors[0]?.shape, [2, 8], "the data reply reached the caller");
    // a warning is emitted on the next tick: wait past it
    await new Promise((r) => setImmediate(r));
  } finally {
    await responder.stop();
  }
}

describe("observers that throw", () => {
  it("fail no request, turn no reply into an error reply, and are reported", async () => {
    const logged: Record<string, unknown>[] = [];
    const responder = await serveFrames(nats.nc, {
      subject: subjects.bodyForward,
      job,
      isKnownClient: (c) => c === baseFrame.client,
      handler: (req) => ({ tensors: req.tensors }),
      ledger: new TrafficLedger(boom),
      observe: boom,
      onBadFrame: boom,
      log: (e) => logged.push(e),
    });
    try {
      const t = randomTensor("hidden", [4, 64, 256], 3);
      assert.ok(encodeFrame({ ...baseFrame, tensors: [t] }, MAX_PAYLOAD).chunks.length >= 4, "chunked");
      const o = { ledger: new TrafficLedger(boom), observe: boom, timeoutMs: 5000 };
      const reply = await requestFrame(nats.nc, subjects.bodyForward, { ...baseFrame, tensors: [t] }, o);
      assert.deepEqual(reply.tensors[0]?.shape, [4, 64, 256], "the data reply reached the caller");
      assert.deepEqual(responder.stats().errors, {}, "no error reply after the data reply");

      const stranger = { ...baseFrame, client: "c9", tensors: [randomTensor("hidden", [1, 4], 1)] };
      await assert.rejects(requestFrame(nats.nc, subjects.bodyForward, stranger, o), UnknownClientError);
      assert.deepEqual(responder.stats().errors, { "unknown-client": 1 });
      await new Promise((r) => setImmediate(r));

      assert.deepEqual(unhandled, []);
      const hooks = logged.filter((e) => e.event === "observer-failed").map((e) => e.hook);
      assert.deepEqual(new Set(hooks), new Set(["observe", "onBadFrame"]), "the responder's, in its log");
      const warned = warnings.filter((w) => w instanceof ObserverError).map((w) => w.hook);
      assert.deepEqual(new Set(warned), new Set(["observe", "traffic observer"]), "the rest, as warnings");
    } finally {
      await responder.stop();
    }
  });

  it("report the requester's and the ledgers' failures to the sink they were given, not as warnings", async () => {
    const reported: ObserverError[] = [];
    const before = warnings.length;
    await requestWithThrowingHooks(subjects.bodyBackward, (e) => void reported.push(e), 4);

    assert.ok(reported.every((e) => e instanceof ObserverError && e.cause instanceof Error));
    // request and reply on both ledgers (4 counts), the requester's observe once
    assert.deepEqual(failuresByHook(reported.map((e) => e.hook)), { "traffic observer": 4, observe: 1 });
    assert.deepEqual(warnings.slice(before), [], "no process warning");
    assert.deepEqual(unhandled, []);
  });
  it("fall back to a process warning when the sink itself throws, and still fail no request", async () => {
    const before = warnings.length;
    await requestWithThrowingHooks(subjects.bodyForward, boom, 5);

    assert.deepEqual(unhandled, []);
    const warned = warnings.slice(before).filter((w) => w instanceof ObserverError);
    assert.deepEqual(
      failuresByHook(warned.map((w) => w.hook)),
      { "traffic observer": 4, observe: 1 },
      "every failure still reported, as a warning",
    );
  });
});
