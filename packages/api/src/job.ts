// The SFPromptJob object (apiVersion, kind, metadata, spec, status) and its group/version/kind.
import { z } from "zod";
import { DNS_LABEL, DNS_SUBDOMAIN } from "./k8s.js";
import { SpecSchema } from "./spec.js";
import { StatusSchema } from "./status.js";

export const GROUP = "sfprompt.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "SFPromptJob";
export const PLURAL = "sfpromptjobs";
export const SINGULAR = "sfpromptjob";
export const SHORT_NAMES = ["sfpj"] as const;

/** The metadata fields this package reads; everything else in ObjectMeta passes through untouched. */
export const MetadataSchema = z.looseObject({
  name: z.string().min(1).max(253).regex(DNS_SUBDOMAIN, {
    error: "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
  }),
  namespace: z.string().max(63).regex(DNS_LABEL, { error: "must be a DNS-1123 label" }).optional(),
  uid: z.string().optional(),
  generation: z.int().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const SFPromptJobSchema = z
  .object({
    apiVersion: z.literal(API_VERSION, { error: `must be ${API_VERSION}` }),
    kind: z.literal(KIND, { error: `must be ${KIND}` }),
    metadata: MetadataSchema,
    spec: SpecSchema.prefault({}),
    status: StatusSchema.optional(),
  })
  .superRefine((job, ctx) => {
    // the one rule that needs the job's name: the spec alone cannot tell
    const from = job.spec.output.resumeFrom;
    if (from?.job === job.metadata.name)
      ctx.addIssue({
        code: "custom",
        path: ["spec", "output", "resumeFrom", "job"],
        message: `is ${from.job}, this job itself; a job resumes from its own checkpoints without it: name another job, or drop resumeFrom`,
      });
  });

/** A job as written by a user (defaults not yet applied). */
export type SFPromptJobInput = z.input<typeof SFPromptJobSchema>;
/** A validated job with every default filled in. */
export type SFPromptJob = z.output<typeof SFPromptJobSchema>;
