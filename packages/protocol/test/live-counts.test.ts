// The live hooks of traffic accounting over a real nats-server: a ledger's observer is told every
// count as it is recorded (chunks and acks of a transfer, an unreadable message), so its running
// sums equal the ledger's totals at any time; a responder's onBadFrame is told each error reply's
// code as stats().errors counts it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  TrafficLedger,
  UnknownClientError,
  encodeFrame,
  jobSubjects,
  requestFrame,
  serveFrames,
  type RemoteErrorCode,
  type TrafficObserver,
} from "@sfprompt/protocol";
import { baseFrame, randomTensor } from "./builders.js";
import { useNats } from "./nats-hooks.js";

const MAX_PAYLOAD = 64 * 1024;
const job = baseFrame.job;
const subjects = jobSubjects(job);
const nats = useNats({ maxPayload: MAX_PAYLOAD });

/** A ledger whose observer keeps running sums by `kind/direction`. */
function observedLedger(): { ledger: TrafficLedger; sums: Map<string, { bytes: number; messages: number }> } {
  const sums = new Map<string, { bytes: number; messages: number }>();
  const observe: TrafficObserver = (key, bytes, messages) => {
    const k = `${key.kind}/${key.direction}`;
    const s = sums.get(k) ?? { bytes: 0, messages: 0 };
    sums.set(k, { bytes: s.bytes + bytes, messages: s.messages + messages });
  };
  return { ledger: new TrafficLedger(observe), sums };
}

function totalsOf(ledger: TrafficLedger): Map<string, { bytes: number; messages: number }> {
  const out = new Map<string, { bytes: number; messages: number }>();
  for (const kind of ["activation", "control", "invalid"] as const) {
    for (const direction of ["sent", "received"] as const) {
      const t = ledger.total({ kind, direction });
      if (t.messages > 0) out.set(`${kind}/${direction}`, t);
    }
  }
  return out;
}

describe("live traffic and refusal counts", () => {
  it("the observers' running sums equal the ledgers at each step, refusals told by code as counted", async () => {
    const served = observedLedger();
    const codes: RemoteErrorCode[] = [];
    const responder = await serveFrames(nats.nc, {
      subject: subjects.bodyForward,
      job,
      isKnownClient: (c) => c === baseFrame.client,
      handler: (req) => ({ tensors: req.tensors }),
      ledger: served.ledger,
      onBadFrame: (code) => codes.push(code),
    });
    const asked = observedLedger();
    try {
      // a chunked request: every chunk, ack and reply chunk told on both sides
      const t = randomTensor("hidden", [4, 64, 256], 3);
      assert.ok(encodeFrame({ ...baseFrame, tensors: [t] }, MAX_PAYLOAD).chunks.length >= 4, "chunked");
      await requestFrame(
        nats.nc,
        subjects.bodyForward,
        { ...baseFrame, tensors: [t] },
        { ledger: asked.ledger },
      );
      assert.deepEqual(asked.sums, totalsOf(asked.ledger));
      assert.deepEqual(served.sums, totalsOf(served.ledger));
      assert.deepEqual(codes, []);

      // an unreadable message and a client the responder does not know: each told once, as sent
      await nats.nc.request(subjects.bodyForward, new Uint8Array([1, 2, 3]), { timeout: 5000 });
      assert.equal(codes.length, 1, "told before the reply arrived here");
      const stranger = { ...baseFrame, client: "c9", tensors: [randomTensor("hidden", [1, 4], 1)] };
      const refused = requestFrame(nats.nc, subjects.bodyForward, stranger, { ledger: asked.ledger });
      await assert.rejects(refused, UnknownClientError);
      assert.deepEqual(codes.slice(1), ["unknown-client"]);
      const errors = responder.stats().errors;
      assert.deepEqual(
        Object.fromEntries(codes.map((c) => [c, codes.filter((x) => x === c).length])),
        errors,
      );
      assert.deepEqual(served.sums, totalsOf(served.ledger));
      assert.equal(served.sums.get("invalid/received")?.messages, 1);
      assert.deepEqual(asked.sums, totalsOf(asked.ledger));
    } finally {
      await responder.stop();
    }
  });

  it("a merge is told entry by entry; a ledger without an observer counts as before", () => {
    const observed = observedLedger();
    const plain = new TrafficLedger();
    plain.record({ client: "c0", round: 1, kind: "control", direction: "sent" }, 40, 2);
    plain.record({ client: "c1", round: 1, kind: "control", direction: "sent" }, 10);
    observed.ledger.merge(plain.snapshot());
    assert.deepEqual(observed.sums, new Map([["control/sent", { bytes: 50, messages: 3 }]]));
    assert.deepEqual(observed.ledger.snapshot(), plain.snapshot());
  });
});
