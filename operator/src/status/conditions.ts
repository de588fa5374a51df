// Conditions in the shape of metav1.Condition, upserted by type: lastTransitionTime moves only when
// the status flips, so a reconcile that changes nothing writes nothing.
import type { Condition } from "@sfprompt/api";
import { conditionMessage } from "./condition-text.js";

export type ConditionStatus = Condition["status"];

/** A condition as computed, before it is merged with the previous one. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  /**
   * When it turned to this status, where that is known and not now: a finished job's completionTime,
   * which a status that lost its Succeeded or Failed condition is given back with (ADR 0023, amendment 18).
   */
  at?: string | undefined;
}

/**
 * `existing` with `update` put in place of the condition of the same type (appended if new). The
 * previous lastTransitionTime is kept when the status did not change; reason and message follow the
 * update either way.
 */
export function upsertCondition(
  existing: readonly Condition[],
  update: ConditionUpdate,
  now: string,
  observedGeneration?: number,
): Condition[] {
  const prev = existing.find((c) => c.type === update.type);
  const { at, ...fields } = update;
  const next: Condition = {
    ...fields,
    // A message from outside (an API server's refusal, the server's failure) may be longer than allowed.
    message: conditionMessage(update.message),
    lastTransitionTime: prev && prev.status === update.status ? prev.lastTransitionTime : (at ?? now),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  return prev ? existing.map((c) => (c.type === update.type ? next : c)) : [...existing, next];
}

/** Applies several updates in order. */
export function upsertConditions(
  existing: readonly Condition[],
  updates: readonly ConditionUpdate[],
  now: string,
  observedGeneration?: number,
): Condition[] {
  return updates.reduce<Condition[]>(
    (acc, u) => upsertCondition(acc, u, now, observedGeneration),
    [...existing],
  );
}

/** The condition of `type`, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
