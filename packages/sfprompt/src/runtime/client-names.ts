// Client names on the data plane: client-<index>, the same in every process of a job.
import type { RunConfig } from "@sfprompt/api";

/** Every client name of the job. */
export function clientNames(config: RunConfig): string[] {
  return Array.from({ length: config.clients.count }, (_, i) => clientName(i));
}

/** The name of client `index`. */
export function clientName(index: number): string {
  return `client-${index}`;
}
