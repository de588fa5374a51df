// What a job's ConfigMap records of how the job finished, read once per reconcile: the spec record
// (ADR 0034, amendment 1) and the outcome record (ADR 0023, amendment 18). Either annotation is written
// only in the reconcile a job finishes in, so its being there says the job finished, whether or not it
// still reads (ADR 0023, amendment 22). Pure.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { ANNOTATION_FINISHED_OUTCOME, ANNOTATION_FINISHED_SPEC } from "../names.js";
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
  return {
    ...(spec ? { spec } : {}),
    ...(outcome ? { outcome } : {}),
    finished: there(ANNOTATION_FINISHED_SPEC) || there(ANNOTATION_FINISHED_OUTCOME),
    unreadable,
  };
}
