// A request's reply as the requester reads it: each message counted and parsed, an error reply turned
// into its typed error, a reply to another request refused, and the chunks reassembled.
import type { Msg } from "@nats-io/transport-node";
import { errorFromReply, FrameHeaderError, NoRespondersError } from "./errors.js";
import { decodeFrame, frameRef, type DecodedFrame, type ParsedChunk } from "./frame.js";
import { ErrorReplyMetaSchema, type FrameHeader } from "./header-schema.js";
import { Reassembler, type ReassemblyLimits } from "./reassembly.js";
import type { ReplyInbox } from "./reply-inbox.js";
import type { TrafficLedger } from "./traffic-ledger.js";
import { receiveCounted, wireLength } from "./wire.js";

/** Reads the reply's chunks from `first` on until it is whole, and decodes it. */
export async function collectReply(
  inbox: ReplyInbox,
  subject: string,
  first: ParsedChunk,
  o: { readonly ledger?: TrafficLedger; readonly limits?: ReassemblyLimits },
  request: FrameHeader,
): Promise<DecodedFrame> {
  const reassembler = new Reassembler({ ...o.limits, maxInFlight: 1 });
  let chunk = first;
  for (;;) {
    const r = reassembler.accept(chunk);
    if (r.status === "complete") return decodeFrame(r.header, r.payload);
    chunk = receiveReply(o.ledger, await inbox.next(subject), subject, request);
  }
}

/** Counts and parses a reply message on `subject`; error replies become their typed errors. */
export function receiveReply(
  ledger: TrafficLedger | undefined,
  msg: Msg,
  subject: string,
  request: FrameHeader,
): ParsedChunk {
  if (msg.headers?.code === 503) {
    const { client, round, kind } = request;
    ledger?.record({ client, round, kind, direction: "received" }, wireLength(msg));
    // NATS says only that nobody subscribes: a server starting, one gone, and a job's end look alike
    throw new NoRespondersError(
      `no service listens on ${subject}: its server is not running or has not subscribed yet, or its job ended`,
      { frame: frameRef(request) },
    );
  }
  const chunk = receiveCounted(ledger, msg);
  const h = chunk.header;
  if (h.type === "error") {
    const meta = ErrorReplyMetaSchema.safeParse(h.meta);
    if (!meta.success)
      throw new FrameHeaderError("error reply without a valid code", { frame: frameRef(h), field: "meta" });
    const field = meta.data.field;
    throw errorFromReply(meta.data.code, meta.data.message, {
      frame: frameRef(request),
      ...(field === undefined ? {} : { field }),
    });
  }
  const same =
    h.job === request.job &&
    h.client === request.client &&
    h.round === request.round &&
    h.step === request.step;
  if (!same)
    throw new FrameHeaderError("reply names another request than the one sent", { frame: frameRef(h) });
  return chunk;
}
