// @sfprompt/operator: the SFPromptJob controller. startOperator runs it in-process (main.ts and the
// integration tests); the pure builders and status functions are exported for tests and tools.
export { startOperator, type OperatorOptions, type RunningOperator } from "./operator.js";
export { parseConfig, type OperatorConfig } from "./config.js";
export { createLogger, type Logger, type Level } from "./log.js";
export { OperatorMetrics } from "./metrics.js";
export * from "./names.js";
export * from "./errors.js";
export { DEFAULT_CHILD_SETTINGS, DEFAULT_EDGE_NODE_LABEL, type ChildSettings } from "./desired/settings.js";
export { desiredChildren, type DesiredChildren, type DesiredInput } from "./desired/children.js";
export { planClients, planClient, type ClientPlan, type RestartPolicy } from "./desired/restart-plan.js";
export { decideLifecycle, type Lifecycle } from "./status/lifecycle.js";
export { computeStatus, type StatusWrite } from "./status/compute-status.js";
export { upsertCondition, upsertConditions, type ConditionUpdate } from "./status/conditions.js";
export { WorkQueue } from "./queue/work-queue.js";
export { backoffDelay, type BackoffPolicy } from "./queue/backoff.js";
export { createHttpApp } from "./http/http-server.js";
// The admission webhook (validating + defaulting SFPromptJobs, certificates); see webhook/index.ts.
export * from "./webhook/index.js";
