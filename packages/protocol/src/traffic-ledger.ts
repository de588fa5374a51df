// Byte counters per client, round, kind and direction: what the method exists to reduce. Counts the
// bytes of every NATS message body sent or received (frame header + payload; no NATS headers are used).
import { z } from "zod";
import { tell, type ObserverErrorSink } from "./observers.js";
import { FRAME_KINDS } from "./tensor.js";

export const TRAFFIC_KINDS = [...FRAME_KINDS, "invalid"] as const;
/** A frame kind, or "invalid" for messages whose header could not be read. */
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];
export type Direction = "sent" | "received";

export const TrafficEntrySchema = z.object({
  client: z.string(),
  round: z.number().int().min(0),
  kind: z.enum(TRAFFIC_KINDS),
  direction: z.enum(["sent", "received"]),
  messages: z.number().int().min(0),
  bytes: z.number().int().min(0),
});
export type TrafficEntry = z.infer<typeof TrafficEntrySchema>;
export type TrafficKey = Omit<TrafficEntry, "messages" | "bytes">;

/** A serialisable copy of a ledger, sorted by client, round, kind, direction. */
export const TrafficSnapshotSchema = z.object({ entries: z.array(TrafficEntrySchema) });
export type TrafficSnapshot = z.infer<typeof TrafficSnapshotSchema>;

export interface TrafficTotals {
  messages: number;
  bytes: number;
}

function keyOf(k: TrafficKey): string {
  return JSON.stringify([k.client, k.round, k.kind, k.direction]);
}

/**
 * Told every count a ledger records, as it records it: a process's live totals (its /metrics) without
 * snapshots of the whole ledger. A merge is told too, entry by entry.
 */
export type TrafficObserver = (key: TrafficKey, bytes: number, messages: number) => void;

export class TrafficLedger {
  readonly #entries = new Map<string, TrafficEntry>();
  readonly #observe: TrafficObserver | undefined;
  readonly #onObserverError: ObserverErrorSink | undefined;

  /**
   * `observe` is told every count; if it throws, the ObserverError goes to `onObserverError` (the
   * process's structured log), or without one is emitted as a process warning.
   */
  constructor(observe?: TrafficObserver, onObserverError?: ObserverErrorSink) {
    this.#observe = observe;
    this.#onObserverError = onObserverError;
  }

  /** Adds `bytes` (and `messages`) to the counter of `key`. */
  record(key: TrafficKey, bytes: number, messages = 1): void {
    tell("traffic observer", this.#observe, [key, bytes, messages], this.#onObserverError);
    const id = keyOf(key);
    const e = this.#entries.get(id);
    if (e === undefined) {
      this.#entries.set(id, {
        client: key.client,
        round: key.round,
        kind: key.kind,
        direction: key.direction,
        messages,
        bytes,
      });
    } else {
      e.messages += messages;
      e.bytes += bytes;
    }
  }

  /** Sums of the entries matching every field given in `filter`. */
  total(filter: Partial<TrafficKey> = {}): TrafficTotals {
    const out = { messages: 0, bytes: 0 };
    for (const e of this.#entries.values()) {
      const match = (Object.keys(filter) as (keyof TrafficKey)[]).every((k) => filter[k] === e[k]);
      if (match) {
        out.messages += e.messages;
        out.bytes += e.bytes;
      }
    }
    return out;
  }

  snapshot(): TrafficSnapshot {
    const entries = [...this.#entries.values()].map((e) => ({ ...e }));
    entries.sort((a, b) => compareKeys(a, b));
    return { entries };
  }

  /** Adds every entry of `snapshot` (e.g. a client's report) to this ledger. */
  merge(snapshot: TrafficSnapshot): void {
    for (const e of TrafficSnapshotSchema.parse(snapshot).entries) this.record(e, e.bytes, e.messages);
  }

  static fromSnapshot(snapshot: TrafficSnapshot): TrafficLedger {
    const ledger = new TrafficLedger();
    ledger.merge(snapshot);
    return ledger;
  }
}

function compareKeys(a: TrafficKey, b: TrafficKey): number {
  if (a.client !== b.client) return a.client < b.client ? -1 : 1;
  if (a.round !== b.round) return a.round - b.round;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.direction < b.direction ? -1 : a.direction > b.direction ? 1 : 0;
}

/** Bytes per kind and direction of a snapshot, optionally for one round: what events report. */
export function summarizeTraffic(snapshot: TrafficSnapshot, round?: number): TrafficSummary {
  const out: TrafficSummary = { sent: 0, received: 0, byKind: {}, sentByKind: {}, receivedByKind: {} };
  for (const e of snapshot.entries) {
    if (round !== undefined && e.round !== round) continue;
    out[e.direction] += e.bytes;
    out.byKind[e.kind] = (out.byKind[e.kind] ?? 0) + e.bytes;
    const dir = e.direction === "sent" ? out.sentByKind : out.receivedByKind;
    dir[e.kind] = (dir[e.kind] ?? 0) + e.bytes;
  }
  return out;
}

/**
 * Bytes of the entries of every round up to and including `round`: with trafficSince, what a round
 * adds to a job's totals, including messages counted under an earlier round after that round was
 * summed (the polls of clients that sit rounds out are counted under the round after the last one
 * they trained, however long they wait).
 */
export function summarizeTrafficThrough(snapshot: TrafficSnapshot, round: number): TrafficSummary {
  return summarizeTraffic({ entries: snapshot.entries.filter((e) => e.round <= round) });
}

function minus(
  a: Partial<Record<TrafficKind, number>>,
  b: Partial<Record<TrafficKind, number>>,
): Partial<Record<TrafficKind, number>> {
  const out: Partial<Record<TrafficKind, number>> = {};
  for (const k of Object.keys(a) as TrafficKind[]) {
    const d = (a[k] ?? 0) - (b[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** What `now` counted beyond `before` (a summary of a smaller snapshot of the same ledger). */
export function trafficSince(now: TrafficSummary, before: TrafficSummary): TrafficSummary {
  return {
    sent: now.sent - before.sent,
    received: now.received - before.received,
    byKind: minus(now.byKind, before.byKind),
    sentByKind: minus(now.sentByKind, before.sentByKind),
    receivedByKind: minus(now.receivedByKind, before.receivedByKind),
  };
}

export const EMPTY_TRAFFIC_SUMMARY: TrafficSummary = Object.freeze({
  sent: 0,
  received: 0,
  byKind: {},
  sentByKind: {},
  receivedByKind: {},
});

export interface TrafficSummary {
  sent: number;
  received: number;
  /** Both directions together. */
  byKind: Partial<Record<TrafficKind, number>>;
  sentByKind: Partial<Record<TrafficKind, number>>;
  receivedByKind: Partial<Record<TrafficKind, number>>;
}
