// What a job's ConfigMap records of how the job finished, read once per reconcile: the spec record
// (ADR 0034, amendment 1) and the outcome record (ADR 0023, amendment 18). Either annotation is written
// only in the reconcile a job finishes in, so its being there says the job finished, whether or not it
// still reads (ADR 0023, amendment 22). Pure.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { ANNOTATION_FINISHED_OUTCOME, ANNOTATION_FINISHED_SPEC, FIELD_MANAGER } from "../names.js";
import { recordedOutcome, type OutcomeRecord } from "./outcome-record.js";
import { recordedSpec, type SpecRecord } from "./spec-record.js";

export interface FinishedRecords {
  /** The spec record, if it reads. */
  spec?: SpecRecord;
  /** The outcome record, if it reads. */
  outcome?: OutcomeRecord;
  /** The ConfigMap carries either annotation, read or not: the job finished. */
  finished: boolean;
  /** The annotations that are there but do not read (edited by hand), in this order: spec, outcome. */
  unreadable: string[];
  /**
   * RFC 3339, of a finished job's ConfigMap: when the operator last wrote it (its server-side apply's
   * managedFields entry, whole seconds). The ConfigMap is written with the records in the reconcile the
   * job finishes in and kept after, but for a record written again later: so no earlier than the job
   * finished (to the second), the best time left where the status and the outcome record lost it (ADR
   * 0023, amendment 23). Another writer's edit does not move it.
   */
  writtenAt?: string;
}

/** When the operator's own server-side apply last changed `cm`, if the API server says. */
function operatorWroteAt(cm: V1ConfigMap | undefined): string | undefined {
  const entry = cm?.metadata?.managedFields?.find(
    (f) => f.manager === FIELD_MANAGER && f.operation === "Apply",
  );
  const ms = entry?.time === undefined ? NaN : new Date(entry.time).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function finishedRecords(cm: V1ConfigMap | undefined): FinishedRecords {
  const annotations = cm?.metadata?.annotations ?? {};
  const spec = recordedSpec(cm);
  const outcome = recordedOutcome(cm);
  const there = (key: string): boolean => annotations[key] !== undefined;
  const unreadable = [
    ...(there(ANNOTATION_FINISHED_SPEC) && spec === undefined ? [ANNOTATION_FINISHED_SPEC] : []),
    ...(there(ANNOTATION_FINISHED_OUTCOME) && outcome === undefined ? [ANNOTATION_FINISHED_OUTCOME] : []),
  ];
  const finished = there(ANNOTATION_FINISHED_SPEC) || there(ANNOTATION_FINISHED_OUTCOME);
  const writtenAt = finished ? operatorWroteAt(cm) : undefined;
  return {
    ...(spec ? { spec } : {}),
    ...(outcome ? { outcome } : {}),
    finished,
    unreadable,
    ...(writtenAt !== undefined ? { writtenAt } : {}),
  };
}
