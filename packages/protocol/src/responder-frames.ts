// What a responder checks of a request's sender and makes of its handler's answer: a frame for
// another job or from a client the job does not have is refused; the answer becomes the reply frame.
import { DataPlaneError, HandlerFailedError, UnknownClientError, UnknownJobError } from "./errors.js";
import { encodeFrame, frameRef, type EncodedFrame } from "./frame.js";
import type { FrameHeader } from "./header-schema.js";
import type { ReplyInit, ResponderOptions } from "./responder-options.js";

/** Refuses a request for another job than `o.job`, or from a client `o.isKnownClient` does not know. */
export function checkSender(h: FrameHeader, o: Pick<ResponderOptions, "job" | "isKnownClient">): void {
  if (h.job !== o.job) {
    throw new UnknownJobError(`this service serves job ${o.job}; send to the subjects of your own job`, {
      frame: frameRef(h),
      field: "job",
    });
  }
  if (o.isKnownClient !== undefined && !o.isKnownClient(h.client)) {
    throw new UnknownClientError(
      `client ${h.client} is not part of job ${h.job}; check the client index/config`,
      {
        frame: frameRef(h),
        field: "client",
      },
    );
  }
}

/**
 * The reply frame of `reply`, the handler's answer to the request `header` (its job, client, round,
 * step and transfer), chunked to `maxPayload`; a reply that cannot be encoded is the handler's fault.
 */
export function replyFrame(header: FrameHeader, reply: ReplyInit, maxPayload: number): EncodedFrame {
  const init = {
    type: "data" as const,
    kind: reply.kind ?? header.kind,
    job: header.job,
    client: header.client,
    round: header.round,
    step: header.step,
    transfer: header.transfer,
    meta: reply.meta ?? {},
    tensors: reply.tensors ?? [],
  };
  try {
    return encodeFrame(init, maxPayload);
  } catch (cause) {
    // the reply is the handler's: its faults must not read as faults of the request
    const detail = cause instanceof DataPlaneError ? reasonOf(cause) : String(cause);
    throw new HandlerFailedError(`the handler's reply cannot be encoded: ${detail}`, {
      frame: frameRef(header),
      cause,
    });
  }
}

/** An error's field and detail, without the frame (the reply names the same frame). */
function reasonOf(error: DataPlaneError): string {
  return error.field === undefined ? error.detail : `field ${error.field}: ${error.detail}`;
}
