// Client names on the data plane: client-<index>, the same in every process of a job.
import type { RunConfig } from "@sfprompt/api";

/** Every client name of the job. */
export function clientNames(config: RunConfig): string[] {
  return Array.from({ length: config.clients.count }, (_, i) => clientName(i));
}

/**
 * Whether `client` is one of `names` (the job's clientNames): the one check of a frame's sender that
 * every service of the job makes, running or lingering after its end; others get `unknown-client`.
 */
export function isJobClient(names: readonly string[], client: string): boolean {
  return names.includes(client);
}

/** The name of client `index`. */
export function clientName(index: number): string {
  return `client-${index}`;
}
