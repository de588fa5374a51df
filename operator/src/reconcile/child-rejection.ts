// An apply the API server refused for good (the child is invalid, or admission forbids it): a
// PodSecurity level, a quota, requests above limits, a node selector key that is no label key. The
// job's spec let it through, so the user must hear about it on the job, not only in our log.
import { KubeApiError } from "../errors.js";

/** HTTP codes of a refusal that retrying the same object will not fix (unlike 409, 429 or 5xx). */
const REFUSALS = new Set([400, 403, 422]);

/** The message for the job's status and event when `err` is such a refusal; undefined otherwise. */
export function childRejection(err: unknown): string | undefined {
  if (!(err instanceof KubeApiError) || err.status === undefined || !REFUSALS.has(err.status))
    return undefined;
  // Condition messages are capped at 32 KiB; the API server's reason fits in far less.
  const reason = err.message.length > 2000 ? `${err.message.slice(0, 2000)}…` : err.message;
  return `${reason}; change the job's spec (spec.server for the server, spec.clients for client pods) or what refuses it, and the operator applies it again`;
}
