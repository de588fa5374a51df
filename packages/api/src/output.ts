// Where checkpoints and final artifacts go, and whether a restarted job resumes.
import { z } from "zod";
import { filePath, objectName } from "./k8s.js";
import { immutableMember, VALIDATIONS, type CelRule } from "./rules.js";

/** A JetStream bucket name, as spec.output.bucket takes it. */
function bucketName(): z.ZodString {
  return z
    .string()
    .min(1)
    .max(200)
    .regex(/^[a-zA-Z0-9_-]+$/, { error: "must contain only letters, digits, '-' and '_'" });
}

/**
 * The shape of a job's default bucket, sfp-<namespace>_<name>-artifacts (long tokens are cut and
 * hashed, so only the prefix and suffix are certain). The operator deletes a default bucket whole
 * with its job, so spec.output.bucket may not take that shape: a job naming another's default bucket
 * would lose its checkpoints when that job is deleted (ADR 0045, second amendment).
 */
export const DEFAULT_BUCKET_SHAPE = /^sfp-.+-artifacts$/;

const DEFAULT_BUCKET_REASON =
  "the shape of a job's default bucket (sfp-<namespace>_<name>-artifacts), which the operator deletes with that job and every object in it; choose a name that does not both start with sfp- and end in -artifacts, or leave spec.output.bucket unset for this job's default bucket";

const NOT_A_DEFAULT_BUCKET: CelRule = {
  rule: `!self.matches('${DEFAULT_BUCKET_SHAPE.source}')`,
  message: `must not have ${DEFAULT_BUCKET_REASON}`,
};

/** Another job of the namespace whose checkpoints this job goes on from (ADR 0044). */
export const ResumeFromSchema = z
  .strictObject({
    job: objectName(
      "Name of the job, in this job's namespace, whose newest checkpoint this job starts from (e.g. a Failed job).",
    ),
    bucket: bucketName().optional().meta({
      description:
        "That job's spec.output.bucket, when it set one; unset: its default bucket sfp-<namespace>_<job>-artifacts.",
    }),
  })
  .meta({
    description:
      "Start from another job's newest checkpoint (its round, parameters and history) when this job has none of its own; the other job's bucket is only read. Used only until this job has a checkpoint of its own: editing it afterwards changes nothing. Keep that job until this one has checkpointed: deleting a job deletes its default bucket.",
  });

/**
 * spec.output.bucket is fixed at creation (ADR 0045, third amendment): the job's checkpoints are in
 * the bucket it started with, and the finalizer deletes a default bucket but keeps a named one.
 */
export const BUCKET_IMMUTABLE = immutableMember(
  "bucket",
  "the job's checkpoints and final parameters are in the bucket it was created with, and its server would write to another one from its next restart on, losing its resume point; create a new job with the bucket you want, with spec.output.resumeFrom.job naming this job (and spec.output.resumeFrom.bucket its bucket, when it set one) to go on from its newest checkpoint",
);

export const OutputSchema = z
  .strictObject({
    bucket: bucketName()
      .refine((b) => !DEFAULT_BUCKET_SHAPE.test(b), {
        error: (issue) => `is ${String(issue.input)}, ${DEFAULT_BUCKET_REASON}`,
      })
      .optional()
      .meta({
        description:
          "JetStream Object Store bucket for checkpoints and artifacts, kept when the job is deleted. Fixed when the job is created: setting, changing or removing it later is refused. One job per bucket: a job finding another's owner object in it fails. Not of the form sfp-<namespace>_<name>-artifacts (default buckets). Unset: sfp-<namespace>_<name>-artifacts, removed with the job.",
        [VALIDATIONS]: [NOT_A_DEFAULT_BUCKET],
      }),
    persistentVolumeClaim: z
      .strictObject({
        claimName: objectName("Name of the PersistentVolumeClaim, in the job's namespace."),
        path: filePath("Directory inside the volume; created when missing.").default("/"),
      })
      .optional()
      .meta({ description: "Also copy the final artifacts to this volume, which outlives the job." }),
    path: filePath(
      "Directory for the run's artifacts with `sfprompt run` (default: runs/<name>); ignored on a cluster.",
    ).optional(),
    checkpointEvery: z.int().min(1).max(100000).default(1).meta({
      description: "Checkpoint the global prompt and tail every N rounds (and after the last).",
    }),
    resume: z.boolean().default(true).meta({
      description:
        "Resume from the last checkpoint when one exists; false starts from round 0, deleting the job's own checkpoints first (it fails, deleting nothing, when the bucket holds another job's).",
    }),
    resumeFrom: ResumeFromSchema.optional(),
  })
  .meta({
    description: "Checkpoints and final artifacts (trained prompt + tail, metrics).",
    [VALIDATIONS]: [BUCKET_IMMUTABLE],
  });

export type Output = z.infer<typeof OutputSchema>;
