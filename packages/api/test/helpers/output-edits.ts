// Edits of spec.output on an existing job, for the CRD's CEL rules (local and in a real API server)
// and the operator's webhook: spec.output.bucket is fixed at creation, the rest of output is not
// (ADR 0045, third amendment).
import type { Json } from "./builders.js";

export interface OutputEdit {
  name: string;
  /** spec.output the job was created with. */
  old: Json;
  /** spec.output after the edit. */
  next: Json;
  refused: boolean;
}

export const outputEdits: readonly OutputEdit[] = [
  {
    name: "setting spec.output.bucket on a job created without one",
    old: {},
    next: { bucket: "team-ckpts" },
    refused: true,
  },
  {
    name: "changing spec.output.bucket",
    old: { bucket: "team-ckpts" },
    next: { bucket: "other-ckpts" },
    refused: true,
  },
  {
    name: "removing spec.output.bucket",
    old: { bucket: "team-ckpts" },
    next: {},
    refused: true,
  },
  {
    name: "changing checkpointEvery of a job that names a bucket, keeping the bucket",
    old: { bucket: "team-ckpts" },
    next: { bucket: "team-ckpts", checkpointEvery: 2 },
    refused: false,
  },
  {
    name: "changing spec.output.resumeFrom (used only until the job has a checkpoint of its own)",
    old: { resumeFrom: { job: "source-a" } },
    next: { resumeFrom: { job: "source-b" } },
    refused: false,
  },
];

/** A JSON merge patch of spec that turns `old` output into `next` (null removes a member). */
export function outputMergePatch(edit: OutputEdit): Json {
  const removed = Object.keys(edit.old).filter((k) => !(k in edit.next));
  return { output: { ...edit.next, ...Object.fromEntries(removed.map((k) => [k, null])) } };
}
