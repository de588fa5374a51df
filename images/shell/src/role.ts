// What a role (server or client) plugs into the process shell: one function that runs the runtime on
// the shell's NATS connection until the job ends or the shell's signal aborts.
import type { NatsConnection } from "@nats-io/transport-node";
import type { RunConfig } from "@sfprompt/api";
import type { Logger } from "./logger.js";
import type { ProcessMetrics } from "./process-metrics.js";
import type { ProcessSettings, Role } from "./settings.js";

export interface RoleContext {
  /** The run config with the settings' overrides applied (NATS URL, execution provider). */
  readonly config: RunConfig;
  readonly settings: ProcessSettings;
  readonly nc: NatsConnection;
  /** Aborted on SIGTERM/SIGINT, a fatal error or a closed connection: return soon, releasing ORT sessions. */
  readonly signal: AbortSignal;
  /** Carries job, role and (client) the client name on every line. */
  readonly logger: Logger;
  readonly metrics: ProcessMetrics;
  /** Call once the role serves (server: body loaded and services up; client: bundle and data loaded). */
  markReady(): void;
}

export interface RoleDefinition {
  readonly role: Role;
  /** Name of the process in NATS and logs: the client's is `client-<index>`. */
  processName(settings: ProcessSettings): string;
  /** Subscribe to the job's end events for the job-level metrics (roles that see events otherwise say false). */
  readonly watchEvents: boolean;
  /** Runs until the job ends (resolves) or `ctx.signal` aborts (resolves or rejects soon after). */
  run(ctx: RoleContext): Promise<void>;
}
