// Reassembly of chunked frames, with limits: transfers in flight, bytes per transfer, and an
// inactivity timeout. Duplicate chunks (from retries) are ignored.
import { FrameHeaderError, FrameSizeError, IncompleteTransferError, ResponderBusyError } from "./errors.js";
import { CHUNK_INDEX_AT, CHUNK_OFFSET_AT } from "./header-binary.js";
import { frameRef, type ParsedChunk } from "./frame.js";
import type { FrameHeader } from "./header-schema.js";

export interface ReassemblyLimits {
  /** Transfers reassembled at once; more get ResponderBusyError (default 16). */
  readonly maxInFlight?: number;
  /** A transfer with no new chunk for this long is dropped (default 30 s). */
  readonly timeoutMs?: number;
  /** Largest payload accepted (default 1 GiB). */
  readonly maxBytes?: number;
}

export type AcceptResult =
  | { readonly status: "complete"; readonly header: FrameHeader; readonly payload: Uint8Array }
  | { readonly status: "partial" | "duplicate"; readonly header: FrameHeader; readonly received: number };

interface Transfer {
  readonly headerBytes: Uint8Array;
  readonly payload: Uint8Array;
  readonly seen: Uint8Array;
  received: number;
  lastAt: number;
}

/** The key of one transfer: who sent it, what for, and its transfer id. */
export function transferKey(h: FrameHeader): string {
  return `${h.job}/${h.client}/${h.round}/${h.step}/${h.kind}/${h.type}/${h.transfer}`;
}

export class Reassembler {
  readonly #transfers = new Map<string, Transfer>();
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  /** Recently completed transfers: a late duplicate of their chunks is ignored, not an error. */
  readonly #completed = new Set<string>();
  #expired = 0;

  constructor(limits: ReassemblyLimits = {}) {
    this.#maxInFlight = limits.maxInFlight ?? 16;
    this.#timeoutMs = limits.timeoutMs ?? 30_000;
    this.#maxBytes = limits.maxBytes ?? 1 << 30;
  }

  get inFlight(): number {
    return this.#transfers.size;
  }

  /** Transfers dropped for inactivity so far. */
  get expired(): number {
    return this.#expired;
  }

  /** Adds one chunk; single-chunk frames complete at once without being stored. */
  accept(chunk: ParsedChunk, now = Date.now()): AcceptResult {
    const h = chunk.header;
    if (h.chunkCount === 1) return { status: "complete", header: h, payload: chunk.body };
    this.sweep(now);
    const key = transferKey(h);
    if (h.chunkIndex > 0 && this.#completed.has(key))
      return { status: "duplicate", header: h, received: h.chunkCount };
    const t = this.#transfers.get(key) ?? this.#start(chunk, now);
    checkSameTransfer(t.headerBytes, chunk);
    if (t.seen[h.chunkIndex] === 1) return { status: "duplicate", header: h, received: t.received };
    t.payload.set(chunk.body, h.chunkOffset);
    t.seen[h.chunkIndex] = 1;
    t.received++;
    t.lastAt = now;
    if (t.received < h.chunkCount) return { status: "partial", header: h, received: t.received };
    this.#transfers.delete(key);
    this.#remember(key);
    return { status: "complete", header: { ...h, chunkIndex: 0, chunkOffset: 0 }, payload: t.payload };
  }

  /** Drops transfers idle for longer than the timeout; returns how many were dropped. */
  sweep(now = Date.now()): number {
    let dropped = 0;
    for (const [key, t] of this.#transfers) {
      if (now - t.lastAt > this.#timeoutMs) {
        this.#transfers.delete(key);
        dropped++;
      }
    }
    this.#expired += dropped;
    return dropped;
  }

  #remember(key: string): void {
    this.#completed.add(key);
    if (this.#completed.size > 256) this.#completed.delete(this.#completed.values().next().value as string);
  }

  #start(chunk: ParsedChunk, now: number): Transfer {
    const h = chunk.header;
    const ref = frameRef(h);
    if (h.chunkIndex !== 0) {
      throw new IncompleteTransferError(
        `chunk ${h.chunkIndex} of ${h.chunkCount} belongs to no transfer in progress (expired or never started); send the frame again from chunk 0`,
        { frame: ref, field: "chunkIndex" },
      );
    }
    if (h.payloadLength > this.#maxBytes) {
      throw new FrameSizeError(
        `payload of ${h.payloadLength} bytes exceeds the receiver's limit of ${this.#maxBytes}`,
        {
          frame: ref,
          field: "payloadLength",
        },
      );
    }
    if (this.#transfers.size >= this.#maxInFlight) {
      throw new ResponderBusyError(`${this.#transfers.size} transfers already in flight; retry later`, {
        frame: ref,
      });
    }
    const t: Transfer = {
      headerBytes: chunk.headerBytes.slice(),
      payload: new Uint8Array(h.payloadLength),
      seen: new Uint8Array(h.chunkCount),
      received: 0,
      lastAt: now,
    };
    this.#completed.delete(transferKey(h)); // chunk 0 again: a retry sends the whole transfer anew
    this.#transfers.set(transferKey(h), t);
    return t;
  }
}

/** Chunks of one transfer carry byte-identical headers except chunkIndex and chunkOffset. */
function checkSameTransfer(first: Uint8Array, chunk: ParsedChunk): void {
  const b = chunk.headerBytes;
  const differs =
    b.length !== first.length ||
    b.some((x, i) => x !== first[i] && !inRange(i, CHUNK_INDEX_AT) && !inRange(i, CHUNK_OFFSET_AT));
  if (differs) {
    throw new FrameHeaderError("chunk header differs from chunk 0 of the same transfer", {
      frame: frameRef(chunk.header),
      field: "header",
    });
  }
}

function inRange(i: number, at: number): boolean {
  return i >= at && i < at + 4;
}
