// How a finished job finished, recorded on its ConfigMap in the reconcile it finishes in, with the spec
// record: the status is the only other place that says so, and a status can be lost (restored from a
// backup without it, rewritten by a stale writer, a Failed condition that no longer reads). The record
// is the operator's own write, so it gives back its own decisions too (DeadlineExceeded, ClientsFailed),
// which no event stream holds (ADR 0023, amendment 18). Pure.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { z } from "zod";
import { ANNOTATION_FINISHED_OUTCOME } from "../names.js";
import { isConditionReason, MAX_MESSAGE_LENGTH } from "../status/condition-text.js";

export interface OutcomeRecord {
  phase: "Succeeded" | "Failed";
  reason: string;
  message: string;
  /** RFC 3339: when the job was recorded finished. */
  completionTime: string;
  /** RFC 3339: the start its deadline counted from, if it had one. */
  startTime?: string;
  /**
   * The round its status had when it was recorded (status.round): the ROUND column of a status lost
   * while its event stream cannot be read (ADR 0034, amendment 8). None in a record of an older
   * operator.
   */
  round?: number;
}

/** The annotation value that records `outcome`. */
export function outcomeRecordAnnotation(outcome: OutcomeRecord): string {
  return JSON.stringify(outcome);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** An RFC 3339 time as the status's fields take it (a write with anything else is refused whole). */
const isTime = (v: unknown): v is string => z.iso.datetime({ offset: true }).safeParse(v).success;

/** A round as status.round takes it. */
const isRound = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The outcome recorded on `cm`, if it carries one that reads: a phase, a reason a condition can hold,
 * a message it can hold and a completion time; a record edited into anything else is none.
 */
export function recordedOutcome(cm: V1ConfigMap | undefined): OutcomeRecord | undefined {
  const text = cm?.metadata?.annotations?.[ANNOTATION_FINISHED_OUTCOME];
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || (v.phase !== "Succeeded" && v.phase !== "Failed")) return undefined;
  if (typeof v.reason !== "string" || !isConditionReason(v.reason)) return undefined;
  if (typeof v.message !== "string" || v.message.length > MAX_MESSAGE_LENGTH) return undefined;
  if (!isTime(v.completionTime)) return undefined;
  return {
    phase: v.phase,
    reason: v.reason,
    message: v.message,
    completionTime: v.completionTime,
    ...(isTime(v.startTime) ? { startTime: v.startTime } : {}),
    ...(isRound(v.round) ? { round: v.round } : {}),
  };
}
