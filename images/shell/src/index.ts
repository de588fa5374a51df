/**
 * @sfprompt/process-shell: what the server and client processes share around the runtime (settings
 * from flags/env, the run config file, JSON logs, /healthz /readyz /metrics, NATS connect + drain,
 * signals and exit codes). The images' `main(argv, env)` are `runProcess(role, argv, env)`.
 *
 * Public API:
 * - runProcess(role: RoleDefinition, argv, env, io?) → Promise<ExitCode>; RoleDefinition, RoleContext.
 * - EXIT (ok 0, config 1, nats 2, runtime 3, forced 4, jobFailed 5), ExitCode.
 * - readSettings(role, argv, env) → ProcessSettings; usage(role); DEFAULT_HTTP_PORT.
 * - readRunConfigFile(path) / parseRunConfigText(path, text) → { config, source }; checkIdentity,
 *   applyOverrides.
 * - createLogger(options) → Logger (same shape as @sfprompt/core's runtime Logger), LogLevel.
 * - ProcessMetrics (families listed in docs/images.md), Registry / Counter / Gauge / Histogram.
 * - Errors: SettingsError, ConfigFileError, NatsConnectError, HttpListenError, ServerJobFailedError.
 */
export * from "./errors.js";
export * from "./exit-codes.js";
export * from "./logger.js";
export * from "./settings.js";
export * from "./run-config-file.js";
export * from "./credentials.js";
export * from "./prometheus.js";
export * from "./process-metrics.js";
export type { RoleContext, RoleDefinition } from "./role.js";
export { runProcess, type ProcessIo } from "./run-process.js";
