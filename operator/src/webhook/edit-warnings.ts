// Admission warnings (kubectl prints each as `Warning: …`) for an allowed edit the job will not act on
// in full: a finished job ignores it (ADR 0034, amendment 2), running client pods keep the spec they
// were made with until they are next created (ADR 0040, amendment 2); a stored status that does not
// read, so that the checks which read it were left out (ADR 0023, amendment 5). Pure.
import type { SFPromptJob, Spec, Status } from "@sfprompt/api";
import type { StatusIssue } from "../status/stored-status.js";
import { clientEditFields } from "../desired/client-edit.js";
import { changedFields, specFieldDigests } from "../desired/spec-record.js";
import { hasFinished } from "../status/lifecycle.js";

/** The length Kubernetes recommends for one warning (the API server may cut one past 256). */
export const WARNING_LENGTH = 120;

export interface EditWarningsInput {
  /** The edited job, parsed (defaults filled in). */
  job: SFPromptJob;
  /** The stored spec, parsed; undefined when it no longer parses. */
  oldSpec: Spec | undefined;
  /** The stored status, when it parses. */
  status: Status | undefined;
}

/**
 * `prefix` followed by as many of `items` (comma-separated) as fit in WARNING_LENGTH, the rest counted
 * ("and 3 more"); at least one item is named.
 */
export function fitList(prefix: string, items: readonly string[]): string {
  for (let n = items.length; n > 1; n--) {
    const rest = items.length - n;
    const text = `${prefix}${items.slice(0, n).join(", ")}${rest > 0 ? ` and ${rest} more` : ""}`;
    if (text.length <= WARNING_LENGTH) return text;
  }
  const rest = items.length - 1;
  return `${prefix}${items[0] ?? ""}${rest > 0 ? ` and ${rest} more` : ""}`;
}

/** The fields this edit changes (defaulted specs; ttlSecondsAfterFinished left out), if known. */
function editedFields(oldSpec: Spec | undefined, spec: Spec): string[] | undefined {
  if (oldSpec === undefined) return undefined;
  return changedFields({ generation: undefined, fields: specFieldDigests(oldSpec) }, spec);
}

/**
 * A finished job's spec edit is allowed and ignored: which of its fields, and how to train with them
 * (a new job, going on from this one's checkpoint where it has one). None for an edit of
 * spec.ttlSecondsAfterFinished alone, the one field a finished job follows.
 */
export function finishedEditWarnings(input: EditWarningsInput): string[] {
  const { job, status } = input;
  if (!hasFinished(status)) return [];
  const fields = editedFields(input.oldSpec, job.spec);
  if (fields?.length === 0) return [];
  const head = `this job has finished (${status?.phase}) and does not run again: this edit is ignored`;
  // A stored spec that no longer parses: which fields changed is not known.
  const what = fields === undefined ? [] : [fitList("ignored fields: ", fields)];
  const checkpoint = status?.lastCheckpoint;
  const advice =
    checkpoint === undefined
      ? "to train with this edit, create a new job (this one has no status.lastCheckpoint: it starts at round 1)"
      : `to train with this edit, create a new job with spec.output.resumeFrom.job: ${job.metadata.name} (from round ${checkpoint.round})`;
  return [head, ...what, advice];
}

/**
 * A running job's edit of fields its client pods are made from: the running ones keep the old values
 * until each is next created (the condition ClientsConfigCurrent goes False). Running as the stored
 * status last saw them; none when the job is or is being suspended (its client pods are deleted).
 */
export function runningClientsWarnings(input: EditWarningsInput): string[] {
  const { job, oldSpec, status } = input;
  if (oldSpec === undefined || hasFinished(status) || status?.phase === "Suspended") return [];
  if (oldSpec.suspend || job.spec.suspend) return [];
  const running = (status?.clients ?? []).filter((c) => c.phase === "Running").length;
  if (running === 0) return [];
  const fields = clientEditFields(job, oldSpec);
  if (fields.length === 0) return [];
  const pods = running === 1 ? "the running client pod keeps" : `the ${running} running client pods keep`;
  return [
    `${pods} the old spec until next created (see condition ClientsConfigCurrent)`,
    fitList("edited fields they read: ", fields),
    "to remake a client pod with the new spec now, delete it (that client misses the round it is in)",
  ];
}

/**
 * The stored status does not read as this operator's API: the edit was checked against its fields
 * that read (the others could hide a checkpoint or a finished phase), which fields it rejects, and
 * that the operator writes them again.
 */
export function unreadableStatusWarnings(issues: readonly StatusIssue[]): string[] {
  return [
    "the stored status does not read as this operator's API: this edit was checked without the fields below",
    fitList(
      "status fields it rejects: ",
      issues.map((i) => `${i.path}: ${i.message}`),
    ),
    "the operator writes the status again from the job's progress (see the job's StatusUnreadable event)",
  ];
}

/** Every warning for an allowed update. */
export function editWarnings(input: EditWarningsInput): string[] {
  return [...finishedEditWarnings(input), ...runningClientsWarnings(input)];
}
