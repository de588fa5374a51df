// Publishing and receiving frames on a connection, with every message counted in a TrafficLedger.
import type { Msg, MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { DataPlaneError, HandlerFailedError, isRemoteErrorCode, type RemoteErrorCode } from "./errors.js";
import { encodeFrame, parseChunk, type ParsedChunk } from "./frame.js";
import type { FrameHeader, FrameMeta } from "./header-schema.js";
import type { TrafficLedger } from "./traffic-ledger.js";

/** The server's max_payload as the connection learned it (1 MiB, NATS's default, before INFO). */
export function maxPayloadOf(nc: NatsConnection): number {
  return nc.info?.max_payload ?? 1024 * 1024;
}

/** Publishes one message and counts it as sent under the frame's client, round and kind. */
export function publishCounted(
  nc: NatsConnection,
  ledger: TrafficLedger | undefined,
  header: Pick<FrameHeader, "client" | "round" | "kind">,
  subject: string,
  bytes: Uint8Array,
  reply?: string,
): void {
  nc.publish(subject, bytes, reply === undefined ? undefined : { reply });
  ledger?.record(
    { client: header.client, round: header.round, kind: header.kind, direction: "sent" },
    bytes.length,
  );
}

/** Bytes a received message took: body plus NATS headers (as the client's stats and /connz count). */
export function wireLength(msg: Msg): number {
  return msg.data.length + (msg.headers === undefined ? 0 : headerWireLength(msg.headers));
}

/**
 * Length of a NATS header block as the server writes it ("NATS/1.0 503\r\n\r\n" for a status). Our
 * frames carry no headers; the server's status replies (no responders) do, and count as traffic.
 */
function headerWireLength(h: MsgHdrs): number {
  let s = "NATS/1.0";
  if (h.code > 0) s += ` ${h.code}${h.description === "" ? "" : ` ${h.description}`}`;
  s += "\r\n";
  for (const [k, values] of h) for (const v of values) s += `${k}: ${v}\r\n`;
  return Buffer.byteLength(s + "\r\n");
}

/**
 * Parses a received message and counts it: under its header when readable, else as kind "invalid".
 * Throws the typed error of what is wrong with it.
 */
export function receiveCounted(ledger: TrafficLedger | undefined, msg: Msg): ParsedChunk {
  let chunk: ParsedChunk;
  try {
    chunk = parseChunk(msg.data);
  } catch (error) {
    ledger?.record({ client: "", round: 0, kind: "invalid", direction: "received" }, wireLength(msg));
    throw error;
  }
  const h = chunk.header;
  ledger?.record({ client: h.client, round: h.round, kind: h.kind, direction: "received" }, wireLength(msg));
  return chunk;
}

/** The code and detail an error reply carries for `error`. */
export function replyCodeOf(error: unknown): { code: RemoteErrorCode; detail: string; field?: string } {
  if (error instanceof DataPlaneError && isRemoteErrorCode(error.code)) {
    return {
      code: error.code,
      detail: error.detail,
      ...(error.field === undefined ? {} : { field: error.field }),
    };
  }
  const wrapped = new HandlerFailedError(`handler failed: ${(error as Error)?.message ?? String(error)}`);
  return { code: wrapped.code, detail: wrapped.detail };
}

/** Encodes an error reply about `about` (or about an unreadable frame) for job `job`. */
export function encodeErrorReply(
  job: string,
  about: FrameHeader | undefined,
  error: unknown,
): { header: FrameHeader; bytes: Uint8Array } {
  const { code, detail, field } = replyCodeOf(error);
  const meta: FrameMeta = { code, message: detail.slice(0, 4000) };
  if (field !== undefined) meta.field = field;
  const frame = encodeFrame(
    {
      type: "error",
      kind: about?.kind ?? "control",
      job,
      client: about?.client ?? "",
      round: about?.round ?? 0,
      step: about?.step ?? 0,
      transfer: about?.transfer ?? 0,
      meta,
    },
    Number.MAX_SAFE_INTEGER,
  );
  return { header: frame.header, bytes: frame.chunks[0]! };
}
