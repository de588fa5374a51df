// The fields of a job that only a cluster acts on: `sfprompt run` starts every process on this
// machine, so it leaves them out, and says which (a suspended job trains at once, pod env never
// reaches the local processes).
import type { SFPromptJob } from "@sfprompt/api";

/**
 * The cluster-only fields the job sets away from their defaults, in spec order, each "spec.…" with
 * the local way in parentheses where there is one. Empty when the job sets none.
 */
export function clusterOnlyFields(job: SFPromptJob): string[] {
  const s = job.spec;
  const found: string[] = [];
  const note = (set: boolean, field: string): void => {
    if (set) found.push(field);
  };
  note(s.suspend, "spec.suspend (the job runs now)");
  const placement = (role: "clients" | "server"): void => {
    const p = s[role];
    note(p.nodeSelector !== undefined, `spec.${role}.nodeSelector`);
    note(p.tolerations !== undefined, `spec.${role}.tolerations`);
    note(p.resources !== undefined, `spec.${role}.resources`);
    note(p.env !== undefined, `spec.${role}.env (set such variables in this shell)`);
  };
  placement("clients");
  note(s.clients.spreadOnePerNode, "spec.clients.spreadOnePerNode");
  note(s.server.replicas > 1, "spec.server.replicas (one server process here)");
  note(s.server.gpus > 0, "spec.server.gpus (the server here uses this machine's GPU when CUDA can be used)");
  placement("server");
  note(s.server.runtimeClassName !== undefined, "spec.server.runtimeClassName");
  note(s.transport.url !== undefined, "spec.transport.url (--nats URL uses a NATS server of yours)");
  note(s.transport.credentialsSecret !== undefined, "spec.transport.credentialsSecret");
  note(
    s.output.persistentVolumeClaim !== undefined,
    "spec.output.persistentVolumeClaim (the results are in the run directory)",
  );
  note(s.activeDeadlineSeconds !== undefined, "spec.activeDeadlineSeconds");
  note(s.ttlSecondsAfterFinished !== undefined, "spec.ttlSecondsAfterFinished");
  return found;
}

/** The line `sfprompt run` prints for them, or undefined when the job sets none. */
export function clusterOnlyLine(job: SFPromptJob): string | undefined {
  const fields = clusterOnlyFields(job);
  if (fields.length === 0) return undefined;
  return (
    `${job.metadata.name}: sfprompt run starts every process on this machine and leaves out what only ` +
    `a cluster acts on: ${fields.join(", ")}`
  );
}
