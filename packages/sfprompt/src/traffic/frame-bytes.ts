// Bytes of one request/reply exchange on the data plane, found by encoding the real frames (zero-filled
// tensors of the real shapes) with the protocol's own encoder: headers, chunking and acks included.
import { nuid } from "@nats-io/transport-node";
import {
  directSubject,
  elementCount,
  encodeFrame,
  type Codec,
  type FrameKind,
  type FrameMeta,
  type OutgoingTensor,
} from "@sfprompt/protocol";

/** A tensor as the planner knows it: name, full shape (batch included), wire codec and dtype. */
export interface TensorOnWire {
  readonly name: string;
  readonly shape: readonly number[];
  readonly codec: Codec;
  /** Element type (default float32); int64 tensors (a text model's masks) travel raw. */
  readonly dtype?: "float32" | "int64";
}

/** One side of an exchange: what the frame says besides job, client, round and step. */
export interface FrameSpec {
  readonly kind: FrameKind;
  readonly meta: FrameMeta;
  readonly tensors: readonly TensorOnWire[];
}

/** A request to `subject` and the reply it gets, as the requester and responder send them. */
export interface ExchangeSpec {
  readonly subject: string;
  readonly job: string;
  readonly client: string;
  readonly round: number;
  readonly request: FrameSpec;
  readonly reply: FrameSpec;
}

/** Bytes and messages of one kind in one direction. */
export interface KindCount {
  readonly kind: FrameKind;
  readonly bytes: number;
  readonly messages: number;
}

/** Counts by kind per direction (up = client → server); the reply may be of another kind than the request. */
export interface SizedExchange {
  readonly up: readonly KindCount[];
  readonly down: readonly KindCount[];
}

/**
 * Sizes exchanges, remembering each distinct one: a frame's size depends on the lengths of its job,
 * client and meta texts and on its tensors' names, shapes and codecs, not on the values (the header
 * stores lengths and fixed-width integers), so frames equal in those are encoded once.
 */
export class ExchangeSizer {
  readonly #memo = new Map<string, SizedExchange>();
  // a real direct subject: "<service>.direct.<nuid>", as the responder makes it
  readonly #instance = nuid.next();

  constructor(readonly maxPayload: number) {}

  size(x: ExchangeSpec): SizedExchange {
    const key = memoKey(x);
    const hit = this.#memo.get(key);
    if (hit !== undefined) return hit;
    const sized = this.#encode(x);
    this.#memo.set(key, sized);
    return sized;
  }

  #encode(x: ExchangeSpec): SizedExchange {
    const base = { job: x.job, client: x.client, round: x.round, step: 0x7fffffff, transfer: 0 };
    const request = encodeFrame(
      { ...base, kind: x.request.kind, meta: x.request.meta, tensors: zeros(x.request.tensors) },
      this.maxPayload,
    );
    // the responder acks every chunk but the last (the requester waits for it before the next chunk)
    let ackBytes = 0;
    const next = directSubject(x.subject, this.#instance);
    for (let i = 0; i + 1 < request.chunks.length; i++) {
      const ack = encodeFrame(
        { ...base, type: "ack", kind: x.request.kind, meta: { next, received: i } },
        Number.MAX_SAFE_INTEGER,
      );
      ackBytes += ack.chunks[0]!.length;
    }
    const reply = encodeFrame(
      { ...base, kind: x.reply.kind, meta: x.reply.meta, tensors: zeros(x.reply.tensors) },
      this.maxPayload,
    );
    const acks = request.chunks.length - 1;
    const down: KindCount[] = [
      { kind: x.reply.kind, bytes: sum(reply.chunks), messages: reply.chunks.length },
    ];
    if (acks > 0) down.push({ kind: x.request.kind, bytes: ackBytes, messages: acks });
    return {
      up: [{ kind: x.request.kind, bytes: sum(request.chunks), messages: request.chunks.length }],
      down,
    };
  }
}

function sum(chunks: readonly Uint8Array[]): number {
  return chunks.reduce((n, c) => n + c.length, 0);
}

// values do not change a frame's size, only dtype, shape and codec do: zeros of the real dtype
function zeros(tensors: readonly TensorOnWire[]): OutgoingTensor[] {
  return tensors.map((t) => {
    const n = elementCount(t.shape);
    return t.dtype === "int64"
      ? { name: t.name, dtype: "int64", shape: t.shape, codec: t.codec, data: new BigInt64Array(n) }
      : { name: t.name, dtype: "float32", shape: t.shape, codec: t.codec, data: new Float32Array(n) };
  });
}

function memoKey(x: ExchangeSpec): string {
  const side = (f: FrameSpec): unknown[] => [
    f.kind,
    JSON.stringify(f.meta).length,
    f.tensors.map((t) => [t.name, t.shape, t.codec, t.dtype ?? "float32"]),
  ];
  return JSON.stringify([
    x.subject.length,
    new TextEncoder().encode(x.job).length,
    new TextEncoder().encode(x.client).length,
    side(x.request),
    side(x.reply),
  ]);
}
