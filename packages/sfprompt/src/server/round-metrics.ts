// A round's metrics from its uploads, evaluation and bytes; sums and summaries of per-round metrics
// for events and run results.
import type { RoundContribution, TrafficSummary } from "@sfprompt/protocol";
import type { RoundMetrics } from "./checkpoints.js";
import type { Evaluation } from "./evaluate.js";
import type { OpenRound } from "./round.js";

/** The metrics of an aggregated round; `traffic`: the bytes it adds to the job's totals. */
export function roundMetrics(
  open: OpenRound,
  evaluation: Evaluation | undefined,
  traffic: TrafficSummary,
): RoundMetrics {
  const uploads = [...open.uploads.values()];
  const kept = uploads.reduce((n, u) => n + u.kept, 0);
  const loss =
    kept > 0 ? uploads.reduce((s, u) => s + u.loss * u.kept, 0) / kept : meanOf(uploads.map((u) => u.loss));
  const localLosses = uploads.flatMap((u) => (u.localLoss === undefined ? [] : [u.localLoss]));
  return {
    round: open.round,
    loss,
    ...(localLosses.length > 0 ? { localLoss: meanOf(localLosses) } : {}),
    accuracy: evaluation?.accuracy ?? null,
    evalLoss: evaluation?.loss ?? null,
    participants: [...open.uploads.keys()].sort(),
    selected: [...open.selected],
    samples: uploads.reduce((n, u) => n + u.samples, 0),
    kept,
    bytes: {
      up: traffic.received,
      down: traffic.sent,
      byKind: { ...traffic.byKind } as Record<string, number>,
      upByKind: { ...traffic.receivedByKind } as Record<string, number>,
      downByKind: { ...traffic.sentByKind } as Record<string, number>,
    },
    clientFlops: meanOf(uploads.map((u) => u.flops)),
    durationMs: Date.now() - open.startedAt.getTime(),
    finishedAt: new Date().toISOString(),
  };
}

/** Each participant's |D_k| and kept samples, by client name. */
export function roundContributions(open: OpenRound): RoundContribution[] {
  return [...open.uploads]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([client, u]) => ({ client, samples: u.samples, kept: u.kept }));
}

type KindBytes = Record<string, number>;

function addInto(into: KindBytes, from: KindBytes): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** The rounds the job trained itself: those after the ones it took over from another job (if any). */
export function ownRounds(
  history: readonly RoundMetrics[],
  inherited: { readonly round: number } | undefined,
): RoundMetrics[] {
  return inherited === undefined ? [...history] : history.filter((r) => r.round > inherited.round);
}

/** Sum of the rounds' bytes; the per-direction split only when every round kept it. */
export function totalBytes(history: readonly RoundMetrics[]): RoundMetrics["bytes"] {
  const out = { up: 0, down: 0, byKind: {} as KindBytes };
  const split = history.every((r) => r.bytes.upByKind && r.bytes.downByKind);
  const upByKind: KindBytes = {};
  const downByKind: KindBytes = {};
  for (const r of history) {
    out.up += r.bytes.up;
    out.down += r.bytes.down;
    addInto(out.byKind, r.bytes.byKind);
    if (split) {
      addInto(upByKind, r.bytes.upByKind!);
      addInto(downByKind, r.bytes.downByKind!);
    }
  }
  return split ? { ...out, upByKind, downByKind } : out;
}

const EVENT_KINDS = ["activation", "gradient", "parameters", "control"] as const;
type EventKindBytes = Partial<Record<(typeof EVENT_KINDS)[number], number>>;

function eventKinds(b: KindBytes): EventKindBytes {
  const out: EventKindBytes = {};
  for (const k of EVENT_KINDS) if (b[k] !== undefined) out[k] = b[k];
  return out;
}

/** Round bytes in the shape of the events' schema (the ledger's "invalid" kind counts in up/down only). */
export function eventBytes(b: RoundMetrics["bytes"]): {
  up: number;
  down: number;
  byKind: EventKindBytes;
  upByKind?: EventKindBytes;
  downByKind?: EventKindBytes;
} {
  return {
    up: b.up,
    down: b.down,
    byKind: eventKinds(b.byKind),
    ...(b.upByKind ? { upByKind: eventKinds(b.upByKind) } : {}),
    ...(b.downByKind ? { downByKind: eventKinds(b.downByKind) } : {}),
  };
}

/** Accuracy of the last evaluated round (0 before any). */
export function lastAccuracy(history: readonly RoundMetrics[]): number {
  for (let i = history.length - 1; i >= 0; i--) {
    const a = history[i]!.accuracy;
    if (a !== null) return a;
  }
  return 0;
}

/** A round's held-out accuracy and its round. */
export interface BestRound {
  readonly round: number;
  readonly accuracy: number;
}

/**
 * The best accuracy of the job's own rounds (after `inherited`'s) up to round `upTo`, each round's as
 * its round.finished gave it (an unevaluated round repeats the last evaluated one, 0 before any; an
 * inherited round's counts for that), and the earliest round of it: what a consumer that saw those
 * events holds as the best. Undefined when the history has none of those rounds.
 */
export function bestOwnRound(
  history: readonly RoundMetrics[],
  inherited: { readonly round: number } | undefined,
  upTo: number,
): BestRound | undefined {
  const after = inherited?.round ?? 0;
  const rounds = history.filter((r) => r.round <= upTo).sort((a, b) => a.round - b.round);
  let last = 0;
  let best: BestRound | undefined;
  for (const r of rounds) {
    if (r.accuracy !== null) last = r.accuracy;
    if (r.round <= after) continue;
    if (best === undefined || last > best.accuracy) best = { round: r.round, accuracy: last };
  }
  return best;
}

export function meanOf(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}
