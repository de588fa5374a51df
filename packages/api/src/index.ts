/**
 * @sfprompt/api: the SFPromptJob API, defined once as zod schemas. Everything else (the CRD, the
 * webhook, the run config, the docs) is derived from these.
 *
 * Public API:
 * - Schemas and types: SFPromptJobSchema / SFPromptJob (+ SFPromptJobInput), SpecSchema / Spec,
 *   StatusSchema / Status, ConditionSchema, ClientStatusSchema, CommunicationSchema, and the section
 *   schemas (ModelSchema, PromptsSchema, ClassesSchema, DataSchema, ClientsSchema, ServerSchema,
 *   TrainingSchema, CompressionSchema, TransportSchema, OutputSchema).
 * - Constants: GROUP, VERSION, API_VERSION, KIND, PLURAL, SINGULAR, SHORT_NAMES, METHODS, PHASES,
 *   CONDITION_TYPES, CODECS, BUILTIN_MODELS, BUILTIN_DATASETS.
 * - Validation: parseJob(obj), parseSpec(spec), applyDefaults(obj); JobValidationError (with
 *   `errors: FieldError[]`, each `{ path: "spec.training.rounds", message }`), ManifestError.
 * - Manifests: loadJobManifest(yamlText), loadJobManifests(yamlText).
 * - Run config: toRunConfig(job), RunConfigSchema / RunConfig, effectiveFor(method, spec),
 *   natsNames(namespace, name, bucket?), jobToken(namespace, name), resolveCount(value, total).
 * - CRD: buildCrd(), crdYaml(), specJsonSchema(), statusJsonSchema(), apiReferenceMarkdown().
 */
export * from "./k8s.js";
export * from "./rules.js";
export * from "./count-or-fraction.js";
export * from "./model.js";
export * from "./data.js";
export * from "./placement.js";
export * from "./training.js";
export * from "./transport.js";
export * from "./output.js";
export * from "./spec.js";
export * from "./status.js";
export * from "./job.js";
export * from "./errors.js";
export * from "./parse.js";
export * from "./run-config.js";
export * from "./to-run-config.js";
export * from "./manifest.js";
export * from "./structural.js";
export * from "./crd.js";
export * from "./api-docs.js";
