import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  jobSubjects,
  requestFrame,
  serveFrames,
  summarizeTraffic,
  summarizeTrafficThrough,
  trafficSince,
  EMPTY_TRAFFIC_SUMMARY,
  TrafficLedger,
  TrafficSnapshotSchema,
  type FrameKind,
} from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { baseFrame, randomTensor } from "./builders.js";

let server: TestNats;
before(async () => {
  server = await startNatsServer({ maxPayload: 128 * 1024, monitoring: true });
});
after(async () => {
  await server.stop();
});

interface ConnzEntry {
  name?: string;
  in_bytes: number;
  out_bytes: number;
}

async function serverSideBytes(name: string): Promise<ConnzEntry> {
  const res = await fetch(`${server.monitorUrl}/connz?limit=1024`);
  const body = (await res.json()) as { connections: ConnzEntry[] };
  const entry = body.connections.find((c) => c.name === name);
  assert.ok(entry !== undefined, `connection ${name} in /connz`);
  return entry;
}

describe("traffic ledger", () => {
  it("counts exactly the bytes on the wire, per client, round and kind, on both ends", async () => {
    const job = baseFrame.job;
    const s = jobSubjects(job);
    const serverConn = await connect({ servers: server.url, name: "body-server" });
    const clients: NatsConnection[] = await Promise.all(
      ["c0", "c1"].map((n) => connect({ servers: server.url, name: n })),
    );
    const serverLedger = new TrafficLedger();
    const responders = await Promise.all(
      [s.bodyForward, s.bodyBackward, s.paramsUpload].map((subject) =>
        serveFrames(serverConn, {
          subject,
          job,
          ledger: serverLedger,
          // an upload is answered by a small control frame; the ledgers count each under its own kind
          handler: (req) =>
            req.header.kind === "parameters" ? { kind: "control" } : { tensors: req.tensors },
        }),
      ),
    );
    const clientLedgers = [new TrafficLedger(), new TrafficLedger()];
    try {
      const plan: { subject: string; kind: FrameKind; shape: number[]; codec: "f32" | "f16" | "int8" }[] = [
        { subject: s.bodyForward, kind: "activation", shape: [4, 17, 300], codec: "f16" },
        { subject: s.bodyBackward, kind: "gradient", shape: [4, 17, 300], codec: "int8" },
        { subject: s.paramsUpload, kind: "parameters", shape: [40, 64], codec: "f32" },
      ];
      for (const round of [0, 1]) {
        for (const [i, nc] of clients.entries()) {
          for (const [step, p] of plan.entries()) {
            const t = { ...randomTensor("t", p.shape, 10 * round + i + step), codec: p.codec };
            const init = { ...baseFrame, client: `c${i}`, round, step, kind: p.kind, tensors: [t] };
            await requestFrame(nc, p.subject, init, { ledger: clientLedgers[i] });
          }
        }
      }
      await Promise.all([serverConn.flush(), ...clients.map((c) => c.flush())]);
      for (const [i, nc] of clients.entries()) {
        const ledger = clientLedgers[i]!;
        const sent = ledger.total({ direction: "sent" }).bytes;
        const received = ledger.total({ direction: "received" }).bytes;
        assert.equal(sent, nc.stats().outBytes, `c${i} sent`);
        assert.equal(received, nc.stats().inBytes, `c${i} received`);
        const wire = await serverSideBytes(`c${i}`);
        assert.equal(sent, wire.in_bytes, `c${i} sent, as nats-server counted it`);
        assert.equal(received, wire.out_bytes, `c${i} received, as nats-server counted it`);
        const flipped = ledger.snapshot().entries.map((e) => ({
          ...e,
          direction: e.direction === "sent" ? "received" : "sent",
        }));
        const serverView = serverLedger.snapshot().entries.filter((e) => e.client === `c${i}`);
        assert.deepEqual(
          flipped.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
          serverView.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
        );
        const kinds = new Set(flipped.map((e) => `${e.kind}/${e.direction}/${e.round}`));
        for (const round of [0, 1]) {
          for (const k of ["activation", "gradient", "parameters"])
            assert.ok(kinds.has(`${k}/received/${round}`), k);
          for (const k of ["activation", "gradient", "control"])
            assert.ok(kinds.has(`${k}/sent/${round}`), k);
        }
      }
      assert.equal(serverLedger.total({ direction: "received" }).bytes, serverConn.stats().inBytes);
      assert.equal(serverLedger.total({ direction: "sent" }).bytes, serverConn.stats().outBytes);
    } finally {
      await Promise.all(responders.map((r) => r.stop()));
      await Promise.all([serverConn, ...clients].map((c) => c.close()));
    }
    // the int8 gradient costs about a quarter of the f32 bytes, f16 activations half: the codecs pay off
    const c0 = clientLedgers[0]!;
    const act = c0.total({ round: 0, kind: "activation", direction: "sent" }).bytes;
    const grad = c0.total({ round: 0, kind: "gradient", direction: "sent" }).bytes;
    const f32Bytes = 4 * 17 * 300 * 4;
    assert.ok(act < f32Bytes * 0.52 && act > f32Bytes * 0.5, `f16 activations: ${act} of ${f32Bytes}`);
    assert.ok(grad < f32Bytes * 0.28 && grad > f32Bytes * 0.25, `int8 gradients: ${grad} of ${f32Bytes}`);
  });

  it("snapshots, merges and summarises counts", () => {
    const a = new TrafficLedger();
    a.record({ client: "c0", round: 1, kind: "activation", direction: "sent" }, 100);
    a.record({ client: "c0", round: 1, kind: "activation", direction: "sent" }, 50);
    a.record({ client: "c1", round: 2, kind: "gradient", direction: "received" }, 7);
    const b = new TrafficLedger();
    b.record({ client: "c0", round: 1, kind: "activation", direction: "sent" }, 1);
    b.merge(TrafficSnapshotSchema.parse(JSON.parse(JSON.stringify(a.snapshot()))));
    assert.deepEqual(b.snapshot().entries, [
      { client: "c0", round: 1, kind: "activation", direction: "sent", messages: 3, bytes: 151 },
      { client: "c1", round: 2, kind: "gradient", direction: "received", messages: 1, bytes: 7 },
    ]);
    assert.deepEqual(summarizeTraffic(b.snapshot(), 1), {
      sent: 151,
      received: 0,
      byKind: { activation: 151 },
      sentByKind: { activation: 151 },
      receivedByKind: {},
    });
    assert.deepEqual(summarizeTraffic(b.snapshot()), {
      sent: 151,
      received: 7,
      byKind: { activation: 151, gradient: 7 },
      sentByKind: { activation: 151 },
      receivedByKind: { gradient: 7 },
    });
  });

  it("sums a round with what was counted under earlier rounds since they were summed, once", () => {
    const ledger = new TrafficLedger();
    const poll = (round: number, bytes: number): void =>
      ledger.record({ client: "idle", round, kind: "control", direction: "received" }, bytes);
    ledger.record({ client: "c0", round: 1, kind: "activation", direction: "received" }, 1000);
    poll(1, 10);
    const first = summarizeTrafficThrough(ledger.snapshot(), 1);
    // round 2: the idle client still polls under round 1, a trained one already waits for round 3
    ledger.record({ client: "c0", round: 2, kind: "activation", direction: "received" }, 2000);
    poll(1, 10);
    poll(1, 10);
    poll(3, 5);
    const second = summarizeTrafficThrough(ledger.snapshot(), 2);
    assert.deepEqual(trafficSince(first, EMPTY_TRAFFIC_SUMMARY), first);
    assert.deepEqual(trafficSince(second, first), {
      sent: 0,
      received: 2020,
      byKind: { activation: 2000, control: 20 },
      sentByKind: {},
      receivedByKind: { activation: 2000, control: 20 },
    });
  });
});
