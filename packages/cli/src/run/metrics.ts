// metrics.json of a run directory: one entry per finished round (loss, accuracy, bytes by kind,
// clients, time), folded from the job's progress events; the schema is the file's contract.
import {
  attemptVerdict,
  enterAttempt,
  NO_ATTEMPTS,
  type AttemptVerdict,
  type JobFinished,
  type ProgressEvent,
  type RoundFinished,
} from "@sfprompt/protocol";
import { z } from "zod";

const count = z.number().int().min(0);

export const BytesSchema = z.object({
  up: count,
  down: count,
  total: count,
  byKind: z.record(z.string(), count),
});

export const RoundMetricsSchema = z.object({
  round: count,
  loss: z.number(),
  accuracy: z.number().min(0).max(1),
  bytes: BytesSchema,
  clients: z.array(z.string()),
  samples: count,
  durationMs: count,
  at: z.string(),
  /** Mean FLOPs of a participating client in the round (from the server's round history). */
  clientFlops: z.number().min(0).optional(),
  /** Mean |D_k| (samples before pruning) of a participating client (from the same history). */
  shardSamples: z.number().min(0).optional(),
  /**
   * The job that trained the round when it is not this one: a round of the job named in
   * spec.output.resumeFrom, taken from the checkpoint history this job went on from (ADR 0044); its
   * bytes are not in this job's totals (`final`, the traffic figures).
   */
  from: z.string().optional(),
});

export const RunMetricsSchema = z.object({
  version: z.literal(1),
  job: z.string(),
  method: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /**
   * Wall seconds the method ran, over every session of a resumed run that trained a round (the
   * comparison table's wall time; a session's own time would drop the earlier sessions').
   */
  seconds: z.number().min(0).optional(),
  rounds: z.array(RoundMetricsSchema),
  final: z
    .object({ rounds: count, loss: z.number(), accuracy: z.number().min(0).max(1), bytes: BytesSchema })
    .optional(),
  /**
   * The server's run attempt the rounds are of, and the attempts it replaced (ADR 0036): a job that
   * starts over under a new attempt drops the rounds recorded before. Absent in older files.
   */
  attempts: z.object({ current: z.string().optional(), earlier: z.array(z.string()) }).optional(),
  /**
   * The job (spec.output.resumeFrom) and round whose checkpoint this job went on from: rounds up to
   * it were trained by that job and are marked `from`; `final` and the totals leave them out (ADR 0044).
   */
  resumedFrom: z.object({ job: z.string(), round: count }).optional(),
});

export type Bytes = z.infer<typeof BytesSchema>;
export type RoundMetrics = z.infer<typeof RoundMetricsSchema>;
export type RunMetrics = z.infer<typeof RunMetricsSchema>;

function bytesOf(b: RoundFinished["bytes"]): Bytes {
  const byKind: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.byKind)) if (v !== undefined) byKind[k] = v;
  return { up: b.up, down: b.down, total: b.up + b.down, byKind };
}

/** A run's metrics with no round yet. */
export function emptyMetrics(job: string, method: string, startedAt = new Date()): RunMetrics {
  return { version: 1, job, method, startedAt: startedAt.toISOString(), rounds: [] };
}

/** Adds (or, for a round seen again after a resume, replaces) a finished round. */
export function withRound(m: RunMetrics, e: RoundFinished): RunMetrics {
  const r: RoundMetrics = {
    round: e.round,
    loss: e.loss,
    accuracy: e.accuracy,
    bytes: bytesOf(e.bytes),
    clients: [...e.participants],
    samples: e.samples,
    durationMs: e.durationMs,
    at: e.at,
  };
  const rounds = [...m.rounds.filter((x) => x.round !== e.round), r].sort((a, b) => a.round - b.round);
  return { ...m, rounds };
}

/**
 * What `e` means for the metrics (attemptVerdict): "stale" ones are to be skipped; on "new" the
 * returned metrics hold nothing of the attempt before (its rounds, final line and time), as the job
 * started over and its rounds are trained again.
 */
export function followAttempt(
  m: RunMetrics,
  e: ProgressEvent,
): { readonly verdict: AttemptVerdict; readonly metrics: RunMetrics } {
  const verdict = attemptVerdict(m.attempts ?? NO_ATTEMPTS, e);
  if (verdict !== "new") return { verdict, metrics: m };
  const next = enterAttempt(m.attempts ?? NO_ATTEMPTS, e.attempt!);
  const attempts = { current: next.current, earlier: [...next.earlier] };
  // nothing recorded yet (the first event of a run): only the attempt is new
  if (m.rounds.length === 0 && m.final === undefined && m.seconds === undefined)
    return { verdict, metrics: { ...m, attempts } };
  return { verdict, metrics: { ...emptyMetrics(m.job, m.method, new Date(e.at)), attempts } };
}

/** The metrics closed by the job's final event. */
export function withFinal(m: RunMetrics, e: JobFinished, finishedAt = new Date()): RunMetrics {
  return {
    ...m,
    finishedAt: finishedAt.toISOString(),
    final: { rounds: e.rounds, loss: e.loss, accuracy: e.accuracy, bytes: bytesOf(e.bytes) },
  };
}

/** Adds each round's mean client FLOPs from the server's round history (the checkpoint's meta). */
export interface HistoryRound {
  readonly round: number;
  readonly clientFlops: number;
  /** Σ |D_k| over the participants. */
  readonly samples: number;
  readonly participants: readonly string[];
}

export function withClientFlops(m: RunMetrics, history: readonly HistoryRound[]): RunMetrics {
  const byRound = new Map(history.map((h) => [h.round, h]));
  return {
    ...m,
    rounds: m.rounds.map((r) => {
      const h = byRound.get(r.round);
      if (h === undefined) return r;
      return {
        ...r,
        clientFlops: h.clientFlops,
        shardSamples: h.samples / Math.max(1, h.participants.length),
      };
    }),
  };
}

/** A round as the server's checkpoint recorded it (@sfprompt/core's RoundMetrics). */
export interface CheckpointRound extends HistoryRound {
  readonly loss: number;
  readonly accuracy: number | null;
  /** Samples split training ran on (after pruning): the events' `samples`. */
  readonly kept: number;
  readonly bytes: {
    readonly up: number;
    readonly down: number;
    readonly byKind: Readonly<Record<string, number>>;
  };
  readonly durationMs: number;
  /** When the server aggregated the round (absent in checkpoints of older servers). */
  readonly finishedAt?: string;
}

/** The kinds the progress events carry (the ledger's "invalid" counts in up/down only). */
const EVENT_KINDS = ["activation", "gradient", "parameters", "control"];

/**
 * Takes each round's numbers from the server's checkpoint history, which holds the rounds the
 * trained parameters went through. A round whose round.finished event went out but whose checkpoint
 * did not (Ctrl-C in between) runs again on resume, and JetStream drops the second event as a
 * duplicate of the first (same message id): the events alone would keep the discarded attempt's
 * bytes, loss and clients, which then disagree with the job's final totals. A round in the history
 * with no event at all (the server, stopping, checkpointed it after the run stopped following its
 * events, and its event never went out) is added from the history alone: dated when the server
 * aggregated it (`readAt` for checkpoints of older servers, which do not say), its accuracy the
 * round before's when it was not evaluated, as its event would have said.
 */
export function withCheckpointRounds(
  m: RunMetrics,
  history: readonly CheckpointRound[],
  readAt = new Date(),
): RunMetrics {
  const seen = new Map(m.rounds.map((r) => [r.round, r]));
  const rounds = [...new Set([...seen.keys(), ...history.map((h) => h.round)])].sort((a, b) => a - b);
  const byRound = new Map(history.map((h) => [h.round, h]));
  const out: RoundMetrics[] = [];
  for (const round of rounds) {
    const r = seen.get(round);
    const h = byRound.get(round);
    if (h === undefined) out.push(r!);
    else out.push(fromCheckpoint(h, r, r?.accuracy ?? out.at(-1)?.accuracy ?? 0, readAt));
  }
  return { ...m, rounds: out };
}

/** A round from its checkpoint history entry, over what its event said (`event`, if one came). */
function fromCheckpoint(
  h: CheckpointRound,
  event: RoundMetrics | undefined,
  accuracyBefore: number,
  readAt: Date,
): RoundMetrics {
  const byKind: Record<string, number> = {};
  for (const k of EVENT_KINDS) if (h.bytes.byKind[k] !== undefined) byKind[k] = h.bytes.byKind[k];
  return {
    ...event,
    round: h.round,
    loss: h.loss,
    // an unevaluated round's event repeats the last accuracy; the history has null there
    accuracy: h.accuracy ?? accuracyBefore,
    bytes: { up: h.bytes.up, down: h.bytes.down, total: h.bytes.up + h.bytes.down, byKind },
    clients: [...h.participants],
    samples: h.kept,
    durationMs: h.durationMs,
    at: event?.at ?? h.finishedAt ?? readAt.toISOString(),
  };
}

/** Marks the rounds up to `source.round` as trained by `source.job`, and notes where the job went on from. */
export function withResumedFrom(m: RunMetrics, source: { job: string; round: number }): RunMetrics {
  return {
    ...m,
    resumedFrom: { job: source.job, round: source.round },
    rounds: m.rounds.map((r) => (r.round <= source.round ? { ...r, from: source.job } : r)),
  };
}

/** The rounds this job trained: not those another job trained (`from`, kept for the curves). */
export function ownRounds(m: RunMetrics): RoundMetrics[] {
  return m.rounds.filter((r) => r.from === undefined);
}

/**
 * The job's own traffic: the server's final totals, else the sum over the rounds it trained (what a
 * resumed run adds up across its sessions); never the bytes of rounds another job trained (`from`).
 */
export function totalBytes(m: RunMetrics): number {
  return m.final?.bytes.total ?? ownRounds(m).reduce((a, r) => a + r.bytes.total, 0);
}

/** One round of a run as the per-byte comparison sees it: bytes sent up to and including it. */
export interface CurvePoint {
  readonly round: number;
  readonly bytes: number;
  readonly accuracy: number;
}

/**
 * After each round the job trained: the round, the bytes it sent so far and the held-out accuracy
 * (rounds another job trained, `from`, are not this job's bytes and are left out).
 */
export function bytesCurve(m: RunMetrics): CurvePoint[] {
  let sent = 0;
  return ownRounds(m).map((r) => ({ round: r.round, bytes: (sent += r.bytes.total), accuracy: r.accuracy }));
}
