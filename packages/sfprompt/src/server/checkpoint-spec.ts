// What a checkpoint must agree on with the job that resumes from it: the spec fields that change what
// the stored parameters mean (method, model split, prompt count, classes), kept in the checkpoint's
// metadata, and the pure check that refuses a resume under another value, naming the field.
import type { RunConfig } from "@sfprompt/api";
import { z } from "zod";
import { ResumeMismatchError } from "../runtime/errors.js";

/** The spec fields a checkpoint was written under (absent in checkpoints of older servers). */
export const CheckpointSpecSchema = z.object({
  method: z.string(),
  split: z.unknown(),
  prompts: z.number().int(),
  numClasses: z.number().int(),
  labels: z.array(z.string()).optional(),
  rounds: z.number().int(),
});
export type CheckpointSpec = z.infer<typeof CheckpointSpecSchema>;

/** The job's values of the fields a checkpoint records. */
export function checkpointSpec(config: RunConfig): CheckpointSpec {
  return {
    method: config.method,
    split: config.model.split,
    prompts: config.prompts.length,
    numClasses: config.classes.numClasses,
    ...(config.classes.labels ? { labels: [...config.classes.labels] } : {}),
    rounds: config.training.rounds,
  };
}

/** JSON with sorted keys, so that two objects compare by value whatever their key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === "object" && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : x,
  );
}

const FIELDS: readonly [keyof CheckpointSpec, string][] = [
  ["method", "spec.method"],
  ["split", "spec.model.split"],
  ["prompts", "spec.prompts.length"],
  ["numClasses", "spec.classes.numClasses"],
  ["labels", "spec.classes.labels"],
];

/**
 * What a user does about a checkpoint that does not fit: for the job's own, start over or use a new
 * name; for spec.output.resumeFrom's job's (`source`: its name), that job's checkpoint is only read,
 * so the remedy is to drop or change resumeFrom.
 */
export function startOverAdvice(source?: string): string {
  return source === undefined
    ? "set spec.output.resume: false to start over (this deletes the job's checkpoints), or run the job " +
        "under a new name (sfprompt run: a fresh --out folder) to keep them"
    : `drop spec.output.resumeFrom to start from the initial parameters, or change ` +
        `spec.output.resumeFrom.job (now ${source}) to a job whose checkpoint fits this spec`;
}

/**
 * Throws ResumeMismatchError when the job cannot go on from the checkpoint of `round` written under
 * `stored` (undefined: an older checkpoint, which records only its method). A changed
 * training.rounds is allowed as long as it still covers the checkpoint's round (more rounds: train
 * on; fewer: stop earlier); the learning-rate schedule follows the new value. `source` names
 * spec.output.resumeFrom's job when the checkpoint is that job's, not this one's.
 */
export function checkResumeSpec(
  object: string,
  round: number,
  stored: { method: string; spec?: CheckpointSpec | undefined },
  config: RunConfig,
  source?: string,
): void {
  const now = checkpointSpec(config);
  // an older checkpoint records its method only: the parameter layout check covers the rest
  const fields = stored.spec ? FIELDS : FIELDS.filter(([k]) => k === "method");
  const was: Partial<CheckpointSpec> = stored.spec ?? { method: stored.method };
  for (const [key, field] of fields) {
    const [a, b] = [canonical(was[key]) ?? "(unset)", canonical(now[key]) ?? "(unset)"];
    if (a !== b)
      throw new ResumeMismatchError(
        object,
        field,
        `was written under ${field} ${a}, the job now has ${b}; its parameters mean something else ` +
          `under another ${field}: ${startOverAdvice(source)}`,
      );
  }
  if (round > now.rounds)
    throw new ResumeMismatchError(
      object,
      "spec.training.rounds",
      `is the checkpoint of round ${round}, past the job's spec.training.rounds ${now.rounds}: raise ` +
        `spec.training.rounds to ${round} or more to train on from it, or ${startOverAdvice(source)}`,
    );
}
