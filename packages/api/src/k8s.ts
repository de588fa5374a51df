// Kubernetes-shaped building blocks (names, tolerations, resources) shared by the spec and status,
// written as zod schemas so that they reach the CRD with the same constraints the API server uses.
import { z } from "zod";
import { boundedRecord } from "./map-keys.js";
import { exactlyOneOf } from "./one-of.js";
import { VALIDATIONS } from "./rules.js";

/** A DNS-1123 label: what Kubernetes accepts for namespaces, label-like names and Service names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain: object names such as Secrets, ConfigMaps and PersistentVolumeClaims. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The quantity grammar of k8s.io/apimachinery resource.Quantity, as controller-gen emits it. */
export const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** The name of an object in the job's namespace (Secret, ConfigMap, PVC). */
export function objectName(description: string): z.ZodString {
  return z
    .string()
    .min(1)
    .max(253)
    .regex(DNS_SUBDOMAIN, { error: "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')" })
    .meta({ description });
}

/** A file-system path, bounded so that CEL rules over it stay within the API server's cost budget. */
export function filePath(description: string): z.ZodString {
  return z.string().min(1).max(4096).meta({ description });
}

/**
 * A resource quantity ("500m", "2Gi", 4). The CRD marks it `x-kubernetes-int-or-string` with the
 * quantity pattern, exactly as Kubernetes' own types do.
 */
export const QuantitySchema = z
  .union([
    z.int().min(0),
    z.string().regex(QUANTITY, { error: "must be a Kubernetes quantity such as 500m or 2Gi" }),
  ])
  .meta({ description: "A Kubernetes resource quantity, e.g. 500m, 2Gi or 4." });

export const ResourceListSchema = boundedRecord(z.string().min(1).max(253), QuantitySchema).meta({
  description: "Resource names (cpu, memory, nvidia.com/gpu, ...) mapped to quantities.",
});

export const ResourceRequirementsSchema = z
  .strictObject({
    requests: ResourceListSchema.optional().meta({
      description: "Minimum resources the scheduler reserves for the container.",
    }),
    limits: ResourceListSchema.optional().meta({
      description: "Maximum resources the container may use.",
    }),
  })
  .meta({ description: "Compute resources of the container, as in a Pod's resources field." });

export const NodeSelectorSchema = boundedRecord(z.string().min(1).max(317), z.string().max(63)).meta({
  description: "Node labels the pod's node must carry (a Pod's nodeSelector).",
});

export const TolerationSchema = z
  .strictObject({
    key: z
      .string()
      .max(317)
      .optional()
      .meta({ description: "Taint key the toleration applies to; empty matches all keys." }),
    operator: z
      .enum(["Exists", "Equal"])
      .optional()
      .meta({ description: "Exists matches any value; Equal (the Kubernetes default) matches value." }),
    value: z
      .string()
      .max(63)
      .optional()
      .meta({ description: "Taint value to match when operator is Equal." }),
    effect: z
      .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
      .optional()
      .meta({ description: "Taint effect to match; empty matches all effects." }),
    tolerationSeconds: z
      .int()
      .optional()
      .meta({ description: "For NoExecute: how long the pod stays bound after the taint appears." }),
  })
  .meta({ description: "A toleration, as in a Pod's tolerations field." });

export const TolerationsSchema = z
  .array(TolerationSchema)
  .max(64)
  .meta({ description: "Tolerations for taints on the nodes the pods may run on." });

export type Quantity = z.infer<typeof QuantitySchema>;
export type ResourceRequirements = z.infer<typeof ResourceRequirementsSchema>;
export type Toleration = z.infer<typeof TolerationSchema>;

/** What Kubernetes accepts as an environment variable name (a C identifier, plus '-' and '.'). */
export const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Environment variables the operator sets on a job's pods (who the process is, where its config,
 * NATS, model and data are): a job's own `env` may not set them.
 */
export const RESERVED_ENV_NAMES = [
  "NATS_URL",
  "NODE_NAME",
  "SFPROMPT_CLIENT_COUNT",
  "SFPROMPT_CLIENT_INDEX",
  "SFPROMPT_CREDENTIALS_DIR",
  "SFPROMPT_DATA_SOURCE",
  "SFPROMPT_EXECUTION_PROVIDER",
  "SFPROMPT_JOB",
  "SFPROMPT_LINGER_AFTER_FINISH",
  "SFPROMPT_MODEL_PATH",
  "SFPROMPT_NAMESPACE",
  "SFPROMPT_RESTART_ATTEMPT",
  "SFPROMPT_RUN_CONFIG",
  "SFPROMPT_SUBJECT_PREFIX",
] as const;

const RESERVED_MESSAGE = "is set by the operator; choose another name";

/** A key of a Secret or ConfigMap in the job's namespace (a Pod's secretKeyRef / configMapKeyRef). */
function keySelector(kind: "Secret" | "ConfigMap") {
  return z
    .strictObject({
      name: objectName(`The ${kind} in the job's namespace.`),
      key: z
        .string()
        .min(1)
        .max(253)
        .regex(/^[-._a-zA-Z0-9]+$/, { error: "must be a key name (letters, digits, '-', '_', '.')" })
        .meta({ description: `The key in the ${kind} whose value the variable takes.` }),
      optional: z
        .boolean()
        .optional()
        .meta({
          description: `When true, the pod starts without the variable if the ${kind} or key is missing.`,
        }),
    })
    .meta({
      description: `A key of a ${kind}, as in a Pod's ${kind === "Secret" ? "secretKeyRef" : "configMapKeyRef"}.`,
    });
}

const VALUE_AND_VALUE_FROM = "give value or valueFrom, not both";

export const EnvVarSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(256)
      .regex(ENV_NAME, { error: "must be an environment variable name (letters, digits, '_', '-', '.')" })
      .refine((n) => !(RESERVED_ENV_NAMES as readonly string[]).includes(n), { error: RESERVED_MESSAGE })
      .meta({
        description: "Variable name.",
        "x-kubernetes-validations": [
          {
            rule: `!(self in [${RESERVED_ENV_NAMES.map((n) => `'${n}'`).join(", ")}])`,
            message: RESERVED_MESSAGE,
          },
        ],
      }),
    value: z
      .string()
      .max(32768)
      .default("")
      .meta({ description: "Its value; as in a Pod, $(NAME) is replaced by a variable defined before it." }),
    valueFrom: exactlyOneOf(
      {
        secretKeyRef: keySelector("Secret").optional(),
        configMapKeyRef: keySelector("ConfigMap").optional(),
      },
      "Take the value from a key of a Secret (e.g. a proxy URL with credentials for HTTPS_PROXY) or a ConfigMap in the job's namespace, instead of value.",
    ).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.valueFrom !== undefined && v.value !== "")
      ctx.addIssue({ code: "custom", message: VALUE_AND_VALUE_FROM });
  })
  .meta({
    description:
      "An environment variable of the process (a Pod's env entry: a literal value, or one from a Secret or ConfigMap key).",
    [VALIDATIONS]: [
      { rule: "!has(self.valueFrom) || !has(self.value) || self.value == ''", message: VALUE_AND_VALUE_FROM },
    ],
  });

export const EnvVarsSchema = z
  .array(EnvVarSchema)
  .max(64)
  .superRefine((vars, ctx) => {
    const seen = new Set<string>();
    vars.forEach((v, i) => {
      if (seen.has(v.name))
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: `${v.name} is set twice; keep one entry per name`,
        });
      seen.add(v.name);
    });
  })
  .meta({
    description:
      "Extra environment variables for these pods, e.g. SFPROMPT_PYPI_INDEX (a package-index mirror for builtin: minilm), NODE_EXTRA_CA_CERTS, or OMP_NUM_THREADS. Names the operator sets are refused.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
  });

export type EnvVar = z.infer<typeof EnvVarSchema>;
