// An apply that will not succeed by retrying the same object: the API server refused it (the child
// is invalid, or admission forbids it: a PodSecurity level, a quota, requests above limits), or an
// object by the child's name exists that is not the job's. The job's spec let it through, so the user
// must hear about it on the job, not only in our log.
import { ChildConflictError, KubeApiError } from "../errors.js";

/** HTTP codes of a refusal that retrying the same object will not fix (unlike 409, 429 or 5xx). */
const REFUSALS = new Set([400, 403, 422]);

export interface ChildRejection {
  /** The condition's and the event's reason. */
  reason: "ChildRejected" | "NameConflict";
  message: string;
}

/** What to report on the job's status and as an event when `err` is such a failure; undefined otherwise. */
export function childRejection(err: unknown): ChildRejection | undefined {
  if (err instanceof ChildConflictError) return { reason: "NameConflict", message: err.message };
  if (!(err instanceof KubeApiError) || err.status === undefined || !REFUSALS.has(err.status))
    return undefined;
  // Condition messages are capped at 32 KiB; the API server's reason fits in far less.
  const reason = err.message.length > 2000 ? `${err.message.slice(0, 2000)}…` : err.message;
  return {
    reason: "ChildRejected",
    message: `${reason}; change the job's spec (spec.server for the server, spec.clients for client pods) or what refuses it, and the operator applies it again`,
  };
}
