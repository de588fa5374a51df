// status.message, kubectl get -o wide's MESSAGE column: why the job is not progressing, in one line,
// from the conditions the reconcile computed. Pure: the same conditions give the same text, so it
// never writes the status by itself (ADR 0023, amendment 15).
import type { Condition, Status } from "@sfprompt/api";
import { findCondition } from "./conditions.js";

/** How much of a condition's message the column shows; the condition keeps the whole. */
export const MAX_STATUS_MESSAGE = 300;

/** Conditions that keep a job from progressing when their status is the one given, first found wins. */
const BLOCKERS: readonly { type: string; status: Condition["status"] }[] = [
  { type: "Created", status: "False" },
  { type: "SpecRejected", status: "True" },
  { type: "ServerReady", status: "False" },
  { type: "ClientsReady", status: "False" },
];

function cut(text: string): string {
  return text.length <= MAX_STATUS_MESSAGE ? text : `${text.slice(0, MAX_STATUS_MESSAGE - 1)}…`;
}

function said(c: Pick<Condition, "reason" | "message">): string {
  return cut(c.message === "" ? c.reason : `${c.reason}: ${c.message}`);
}

/**
 * Why a job in `phase` is not progressing: a finished job's Succeeded or Failed condition, a
 * suspended one's spec.suspend, else the first condition that holds it back (a refused child, a held
 * edit, the server, the clients); undefined for a job that trains with nothing holding it back.
 */
export function statusMessage(
  phase: Status["phase"],
  conditions: readonly Condition[] | undefined,
): string | undefined {
  if (phase === "Succeeded" || phase === "Failed") {
    const c = findCondition(conditions, phase);
    return c?.status === "True" ? said(c) : undefined;
  }
  if (phase === "Suspended") return "Suspended: spec.suspend is true";
  for (const b of BLOCKERS) {
    const c = findCondition(conditions, b.type);
    if (c?.status === b.status) return said(c);
  }
  return undefined;
}
