// Where checkpoints and final artifacts go, and whether a restarted job resumes.
import { z } from "zod";
import { filePath, objectName } from "./k8s.js";

/** A JetStream bucket name, as spec.output.bucket takes it. */
function bucketName(): z.ZodString {
  return z
    .string()
    .min(1)
    .max(200)
    .regex(/^[a-zA-Z0-9_-]+$/, { error: "must contain only letters, digits, '-' and '_'" });
}

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
      "Start from another job's newest checkpoint (its round, parameters and history) when this job has none of its own; the other job's bucket is only read. Keep that job until this one has checkpointed: deleting a job deletes its default bucket.",
  });

export const OutputSchema = z
  .strictObject({
    bucket: bucketName().optional().meta({
      description:
        "JetStream Object Store bucket for checkpoints and artifacts. Unset: sfp-<namespace>_<name>-artifacts, removed with the job.",
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
  .meta({ description: "Checkpoints and final artifacts (trained prompt + tail, metrics)." });

export type Output = z.infer<typeof OutputSchema>;
