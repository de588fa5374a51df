// The requester's and responder's observe hooks over a real nats-server: one observation per request
// on each side (a chunked transfer's acks are none), with the outcome its end says, and none for a
// request its caller aborted or a message that asked for no reply.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HandlerFailedError,
  NoRespondersError,
  RequestTimeoutError,
  encodeFrame,
  jobSubjects,
  requestFrame,
  serveFrames,
  type RequestObservation,
  type ResponseObservation,
} from "@sfprompt/protocol";
import { baseFrame, randomTensor } from "./builders.js";
import { useNats } from "./nats-hooks.js";

const MAX_PAYLOAD = 64 * 1024;
const job = baseFrame.job;
const subjects = jobSubjects(job);
const nats = useNats({ maxPayload: MAX_PAYLOAD });

/** What each side observed, without the durations (checked apart). */
function sides(): {
  requests: RequestObservation[];
  responses: ResponseObservation[];
  observeRequest: (r: RequestObservation) => void;
  observeResponse: (r: ResponseObservation) => void;
} {
  const requests: RequestObservation[] = [];
  const responses: ResponseObservation[] = [];
  return {
    requests,
    responses,
    observeRequest: (r) => requests.push(r),
    observeResponse: (r) => responses.push(r),
  };
}

describe("request observations", () => {
  it("a chunked request is observed once on each side, ok, with its subject, kind and meta", async () => {
    const s = sides();
    const responder = await serveFrames(nats.nc, {
      subject: subjects.bodyForward,
      job,
      handler: (req) => ({ tensors: req.tensors }),
      observe: s.observeResponse,
    });
    try {
      const t = randomTensor("hidden", [4, 64, 256], 3);
      assert.ok(encodeFrame({ ...baseFrame, tensors: [t] }, MAX_PAYLOAD).chunks.length >= 4, "chunked");
      const init = { ...baseFrame, meta: { op: "poll" }, tensors: [t] };
      await requestFrame(nats.nc, subjects.bodyForward, init, { observe: s.observeRequest });
      assert.deepEqual(
        s.requests.map(({ seconds: _, ...r }) => r),
        [
          {
            subject: subjects.bodyForward,
            kind: "activation",
            meta: { op: "poll" },
            attempts: 1,
            outcome: "ok",
          },
        ],
      );
      assert.deepEqual(
        s.responses.map((r) => [r.subject, r.request?.step, r.outcome]),
        [[subjects.bodyForward, baseFrame.step, "ok"]],
      );
      assert.ok(s.requests[0]!.seconds >= s.responses[0]!.seconds, "the round trip holds the handling");
    } finally {
      await responder.stop();
    }
  });

  it("an error reply is an error on both sides; a frame that cannot be read is one without a request", async () => {
    const s = sides();
    const responder = await serveFrames(nats.nc, {
      subject: subjects.paramsUpload,
      job,
      handler: () => {
        throw new Error("the handler fails");
      },
      observe: s.observeResponse,
    });
    try {
      const sent = requestFrame(nats.nc, subjects.paramsUpload, baseFrame, { observe: s.observeRequest });
      await assert.rejects(sent, HandlerFailedError);
      // a message without a reply subject is no request: refused, not observed
      nats.nc.publish(subjects.paramsUpload, new Uint8Array([8, 8, 8]));
      await nats.nc.request(subjects.paramsUpload, new Uint8Array([9, 9, 9]), { timeout: 5000 });
      assert.equal(responder.stats().messages, 3, "the publish reached the responder first");
      assert.deepEqual(
        s.requests.map((r) => [r.attempts, r.outcome]),
        [[1, "error"]],
      );
      assert.deepEqual(
        s.responses.map((r) => [r.request?.step, r.outcome]),
        [
          [baseFrame.step, "error"],
          [undefined, "error"],
        ],
      );
    } finally {
      await responder.stop();
    }
  });

  it("no responder is unavailable and no reply is a timeout, each once over all its attempts", async () => {
    const s = sides();
    const o = { retries: 2, backoffMs: 1, timeoutMs: 150, observe: s.observeRequest };
    await assert.rejects(requestFrame(nats.nc, subjects.bodyBackward, baseFrame, o), NoRespondersError);
    const swallow = nats.nc.subscribe(subjects.bodyBackward);
    await nats.nc.flush();
    try {
      await assert.rejects(requestFrame(nats.nc, subjects.bodyBackward, baseFrame, o), RequestTimeoutError);
    } finally {
      swallow.unsubscribe();
    }
    assert.deepEqual(
      s.requests.map((r) => [r.attempts, r.outcome]),
      [
        [3, "unavailable"],
        [3, "timeout"],
      ],
    );
    assert.ok(
      s.requests[1]!.seconds >= 3 * 0.15,
      `the timeout spans its 3 attempts: ${s.requests[1]!.seconds}`,
    );
  });

  it("a request its caller aborted is not observed", async () => {
    const s = sides();
    const swallow = nats.nc.subscribe(subjects.roundReport);
    await nats.nc.flush();
    try {
      const signal = AbortSignal.timeout(100);
      const o = { timeoutMs: 5000, signal, observe: s.observeRequest };
      await assert.rejects(requestFrame(nats.nc, subjects.roundReport, baseFrame, o));
      assert.ok(signal.aborted);
    } finally {
      swallow.unsubscribe();
    }
    assert.deepEqual(s.requests, []);
  });
});
