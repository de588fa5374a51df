/**
 * @sfprompt/api: the SFPromptJob API, defined once as zod schemas. Everything else (the CRD, the
 * webhook, the run config, docs/api.md) is derived from these (docs/adr/0002).
 *
 * Public API:
 * - Schemas and types: SFPromptJobSchema / SFPromptJob (defaulted) / SFPromptJobInput, SpecSchema /
 *   Spec / SpecInput, StatusSchema / Status, ConditionSchema / Condition, ClientStatusSchema,
 *   MetricsSchema, CommunicationSchema / Communication, ServerStatusSchema / ServerStatus,
 *   CheckpointSchema, and the spec sections:
 *   ModelSchema (ModelSourceSchema, SplitSchema), PromptsSchema, ClassesSchema, DataSchema
 *   (DataSourceSchema, EvalSourceSchema, PartitioningSchema), ClientsSchema, ServerSchema,
 *   TrainingSchema (OptimizerSchema, PruningSchema, ...), CompressionSchema, TransportSchema,
 *   OutputSchema; Kubernetes parts: TolerationSchema, ResourceRequirementsSchema, QuantitySchema.
 * - Constants: GROUP, VERSION, API_VERSION, KIND, PLURAL, SINGULAR, SHORT_NAMES, METHODS, PHASES,
 *   CONDITION_TYPES, CLIENT_STATUS_STATES (type ClientStatusState), SERVER_EXECUTION_PROVIDERS, CODECS,
 *   BUILTIN_MODELS, BUILTIN_DATASETS.
 * - Validation: parseJob(obj) and parseSpec(spec) → { ok: true, value } | { ok: false, errors };
 *   applyDefaults(obj) → SFPromptJob (throws JobValidationError). FieldError = { path, message },
 *   e.g. { path: "spec.training.rounds", message: "must be ≥ 1 (got 0)" }. Errors:
 *   JobValidationError (.errors), ManifestError, StructuralSchemaError.
 * - Manifests (`sfprompt run`): loadJobManifest(yamlText) → SFPromptJob, loadJobManifests(yamlText).
 * - Run config: toRunConfig(job) → RunConfig (RunConfigSchema validates a file/ConfigMap),
 *   effectiveFor(method, spec), natsNames(namespace, name, bucket?), jobToken(namespace, name),
 *   resolveCount(countOrFraction, total), DEFAULT_NAMESPACE.
 * - CRD and docs: buildCrd(), crdYaml(), helmCrdYaml(), rootJsonSchema(), specJsonSchema(),
 *   statusJsonSchema(), toStructural(jsonSchema), apiReferenceMarkdown(), PRINTER_COLUMNS,
 *   CRD_NAME, CRD_PATH, HELM_CRD_PATH, API_DOCS_PATH.
 * - Messages: shellQuote(word), a path as one word of a suggested shell command.
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
export * from "./shell-quote.js";
export * from "./errors.js";
export * from "./parse.js";
export * from "./run-config.js";
export * from "./to-run-config.js";
export * from "./manifest.js";
export * from "./structural.js";
export * from "./map-keys.js";
export * from "./crd.js";
export * from "./api-docs.js";
