import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  bodyQueueGroup,
  crc32,
  encodeFrame,
  FrameResponder,
  HandlerFailedError,
  jobSubjects,
  NoRespondersError,
  RequestTimeoutError,
  requestFrame,
  serveFrames,
  TrafficLedger,
  type DecodedFrame,
  type FrameHandler,
  type RetryInfo,
} from "@sfprompt/protocol";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { baseFrame, randomTensor } from "./builders.js";

const MAX_PAYLOAD = 256 * 1024;
const job = baseFrame.job;
const subjects = jobSubjects(job);
let server: TestNats;
const open: NatsConnection[] = [];

async function conn(name: string): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, name });
  open.push(nc);
  return nc;
}

const echo: FrameHandler = (req) => ({ tensors: req.tensors, meta: { echoed: req.header.step } });

before(async () => {
  server = await startNatsServer({ maxPayload: MAX_PAYLOAD, monitoring: true });
});
after(async () => {
  await Promise.all(open.map((nc) => (nc.isClosed() ? undefined : nc.close())));
  await server.stop();
});

describe("request/reply of tensor frames", () => {
  it("carries a tensor 6x larger than max_payload both ways through a queue group of two replicas", async () => {
    const [a, b, c] = await Promise.all([conn("replica-a"), conn("replica-b"), conn("client")]);
    const opts = { subject: subjects.bodyForward, queue: bodyQueueGroup(job), job, handler: echo };
    const replicas = await Promise.all([serveFrames(a, opts), serveFrames(b, opts)]);
    try {
      const t = randomTensor("hidden", [6, 64, 1024], 42);
      const sent = encodeFrame({ ...baseFrame, tensors: [t] }, MAX_PAYLOAD);
      assert.ok(sent.chunks.length >= 6, `${sent.chunks.length} chunks`);
      for (let step = 0; step < 4; step++) {
        const reply = await requestFrame(c, subjects.bodyForward, { ...baseFrame, step, tensors: [t] });
        assert.equal(reply.header.chunkCount, sent.chunks.length);
        assert.equal(reply.header.checksum, sent.header.checksum);
        assert.equal(
          crc32(new Uint8Array((reply.tensors[0]!.data as Float32Array).buffer)),
          crc32(new Uint8Array(t.data.buffer)),
        );
        assert.deepEqual(reply.tensors[0]!.data, t.data);
        assert.equal(reply.header.meta.echoed, step);
      }
      const stats = replicas.map((r) => r.stats());
      assert.equal(stats[0]!.handled + stats[1]!.handled, 4);
      assert.deepEqual([stats[0]!.errors, stats[1]!.errors], [{}, {}]);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it("runs handlers concurrently, so a body service can batch the requests of several clients", async () => {
    const s = await conn("batching-server");
    const clients = await Promise.all([0, 1, 2, 3].map((i) => conn(`batch-c${i}`)));
    const waiting: (() => void)[] = [];
    let peak = 0;
    const responder = await serveFrames(s, {
      subject: subjects.bodyForward,
      job,
      handler: async (req) => {
        // a barrier: no reply until all four requests are inside the handler at once
        await new Promise<void>((release) => {
          waiting.push(release);
          peak = Math.max(peak, waiting.length);
          if (waiting.length === 4) waiting.splice(0).forEach((r) => r());
        });
        return { tensors: req.tensors };
      },
    });
    try {
      const replies = await Promise.all(
        clients.map((nc, i) =>
          requestFrame(
            nc,
            subjects.bodyForward,
            { ...baseFrame, client: `c${i}`, tensors: [randomTensor("h", [2, 8], i)] },
            { timeoutMs: 5000 },
          ),
        ),
      );
      assert.equal(peak, 4);
      assert.deepEqual(
        replies.map((r) => r.header.client),
        ["c0", "c1", "c2", "c3"],
      );
    } finally {
      await responder.stop();
    }
  });

  it("applies a retried request once: a retry during handling waits for it, a later one is replayed", async () => {
    const [s, c] = await Promise.all([conn("retry-server"), conn("retry-client")]);
    let applied = 0;
    const responder = await serveFrames(s, {
      subject: subjects.paramsUpload,
      job,
      handler: async (req: DecodedFrame) => {
        applied++;
        if (req.header.step === 1) await new Promise((r) => setTimeout(r, 400)); // longer than the timeout
        return { kind: "control", meta: { applied } };
      },
    });
    try {
      const init = {
        ...baseFrame,
        kind: "parameters",
        step: 1,
        tensors: [randomTensor("prompt", [4, 16], 1)],
      } as const;
      // attempts time out at 150 ms while the handler takes 400 ms; 8 retries (~3.9 s in all) leave a
      // loaded machine room to finish it (5, ~1.2 s, left little more than the 400 ms)
      const first = await requestFrame(c, subjects.paramsUpload, init, {
        timeoutMs: 150,
        retries: 8,
        backoffMs: 10,
      });
      assert.equal(first.header.meta.applied, 1);
      const again = await requestFrame(c, subjects.paramsUpload, init, { timeoutMs: 1000 });
      assert.equal(again.header.meta.applied, 1);
      assert.equal(applied, 1);
      assert.ok(responder.stats().replayed >= 1);
      const next = await requestFrame(c, subjects.paramsUpload, { ...init, step: 2 });
      assert.equal(next.header.meta.applied, 2);
    } finally {
      await responder.stop();
    }
  });

  it("answers a repeated chunked upload from the cache at its first chunk, without a second upload", async () => {
    const [s, c] = await Promise.all([conn("cache-server"), conn("cache-client")]);
    let applied = 0;
    const responder = await serveFrames(s, {
      subject: subjects.paramsUpload,
      job,
      handler: () => ({ meta: { n: ++applied } }),
    });
    try {
      const init = {
        ...baseFrame,
        kind: "parameters",
        step: 9,
        tensors: [randomTensor("tail", [300, 1000], 3)],
      } as const;
      const ledger = new TrafficLedger();
      await requestFrame(c, subjects.paramsUpload, init, { ledger });
      const firstUpload = ledger.total({ direction: "sent" }).messages;
      await requestFrame(c, subjects.paramsUpload, init, { ledger });
      assert.ok(firstUpload > 2);
      assert.equal(ledger.total({ direction: "sent" }).messages, firstUpload + 1);
      assert.equal(applied, 1);
    } finally {
      await responder.stop();
    }
  });

  it("fails with NoRespondersError naming the subject and why nobody may serve it, counting the server's status replies", async () => {
    const c = await conn("lonely");
    const ledger = new TrafficLedger();
    const init = { ...baseFrame, kind: "gradient" } as const;
    const retries: RetryInfo[] = [];
    await assert.rejects(
      requestFrame(c, subjects.bodyBackward, init, {
        retries: 1,
        backoffMs: 5,
        ledger,
        onRetry: (r) => retries.push(r),
      }),
      (e: unknown) =>
        e instanceof NoRespondersError &&
        // not "yet": a server gone, or a job that ended, has no responder either
        e.detail ===
          `no service listens on ${subjects.bodyBackward}: its server is not running or has not subscribed yet, or its job ended`,
    );
    await c.flush();
    assert.equal(ledger.total({ direction: "sent" }).messages, 2);
    // the one retry is reported with the bytes it sends again: half of what the ledger counted as sent
    assert.deepEqual(
      retries.map((r) => [r.subject, r.round, r.kind, r.attempt, r.error.constructor.name, r.requestBytes]),
      [
        [
          subjects.bodyBackward,
          init.round,
          "gradient",
          1,
          "NoRespondersError",
          ledger.total({ direction: "sent" }).bytes / 2,
        ],
      ],
    );
    assert.equal(ledger.total({ direction: "received" }).messages, 2);
    assert.equal(ledger.total({ direction: "received" }).bytes, c.stats().inBytes);
    assert.equal(ledger.total({ direction: "sent" }).bytes, c.stats().outBytes);
  });

  it("fails with RequestTimeoutError naming the frame when the service never answers", async () => {
    const [s, c] = await Promise.all([conn("silent-server"), conn("silent-client")]);
    const sub = s.subscribe(subjects.roundReport); // listens, never replies
    try {
      await assert.rejects(
        requestFrame(
          c,
          subjects.roundReport,
          { ...baseFrame, kind: "control" },
          { timeoutMs: 100, retries: 1, backoffMs: 5 },
        ),
        (e: unknown) => {
          assert.ok(e instanceof RequestTimeoutError);
          assert.match(e.message, /after 2 attempts/);
          assert.match(e.message, /client=c0 round=2 step=7/);
          return true;
        },
      );
    } finally {
      sub.unsubscribe();
    }
  });

  it("answers a reply whose meta the header cannot hold as the handler's failure, not the request's", async () => {
    const [s, c] = await Promise.all([conn("big-meta-server"), conn("big-meta-client")]);
    const responder = new FrameResponder(s, {
      subject: subjects.paramsGlobal,
      job,
      handler: () => ({ meta: { report: "r".repeat(70_000), samples: 3 } }),
    });
    await s.flush();
    try {
      await assert.rejects(
        requestFrame(c, subjects.paramsGlobal, { ...baseFrame, kind: "parameters" }),
        (e: unknown) => {
          assert.ok(e instanceof HandlerFailedError && e.remote, String(e));
          assert.match(e.message, /reply cannot be encoded: field meta\.report: meta is \d+ bytes/);
          assert.match(e.message, /over the 65535/);
          return true;
        },
      );
      assert.deepEqual(responder.stats().errors, { "handler-failed": 1 });
    } finally {
      await responder.stop();
    }
  });

  it("turns a handler failure into HandlerFailedError on the requester", async () => {
    const [s, c] = await Promise.all([conn("failing-server"), conn("failing-client")]);
    const responder = new FrameResponder(s, {
      subject: subjects.paramsGlobal,
      job,
      handler: () => {
        throw new Error("no checkpoint for round 2");
      },
    });
    await s.flush();
    try {
      await assert.rejects(
        requestFrame(c, subjects.paramsGlobal, { ...baseFrame, kind: "parameters" }),
        (e: unknown) => {
          assert.ok(e instanceof HandlerFailedError && e.remote);
          assert.match(e.message, /no checkpoint for round 2/);
          return true;
        },
      );
      assert.deepEqual(responder.stats().errors, { "handler-failed": 1 });
    } finally {
      await responder.stop();
    }
  });
});
