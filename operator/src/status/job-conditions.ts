// The job's conditions as computeStatus upserts them: Created, ServerReady, ClientsReady,
// ClientsConfigCurrent, Running, Suspended, Succeeded, Failed, CpuFallback and SpecRejected. Pure.
import type { ClientStatus, ServerStatus, Status } from "@sfprompt/api";
import type { V1Deployment } from "@kubernetes/client-node";
import { SPEC_REJECTED } from "./checkpoint-rounds.js";
import { clientsConfigCondition } from "./clients-config.js";
import type { ConditionUpdate } from "./conditions.js";
import { clientsNotice, hasFinished, INVALID_SPEC, type Terminal } from "./lifecycle.js";
import { clientIndexList, clientsWhyText, serverPodsText } from "./pod-reason.js";
import { cpuFallbackCondition } from "./server-status.js";
import type { StatusInput } from "./status-input.js";

type Phase = NonNullable<Status["phase"]>;

export function serverAvailable(d: V1Deployment | undefined): boolean {
  return (d?.status?.availableReplicas ?? 0) >= 1;
}

const cond = (type: string, on: boolean, reason: string, message: string): ConditionUpdate => ({
  type,
  status: on ? "True" : "False",
  reason,
  message,
});

function serverCondition(input: StatusInput): ConditionUpdate {
  if (input.lifecycle.suspended || input.lifecycle.terminal) {
    return cond(
      "ServerReady",
      false,
      "ScaledDown",
      "the server is scaled to 0 while the job is suspended or finished",
    );
  }
  const d = input.deployment;
  const ok = serverAvailable(d);
  const want = d?.spec?.replicas ?? 0;
  return ok
    ? cond(
        "ServerReady",
        true,
        "MinimumReplicasAvailable",
        `${d?.status?.availableReplicas} of ${want} server replicas available`,
      )
    : cond(
        "ServerReady",
        false,
        "ServerNotAvailable",
        `no server replica is available yet: ${serverPodsText(input.serverPods ?? [], input.now)}`,
      );
}

/** What becomes of a finished job's client pods (ADR 0012, amendments 2 and 3). */
function finishedClientsText(terminal: Terminal): string {
  const kept = "finished ones kept for their logs";
  const notice = clientsNotice(terminal);
  if (notice === "not-told")
    return `the job failed by the operator's decision (${terminal.reason}), which its clients are not told of: client pods that had not finished are deleted at once (phase Unknown), ${kept}`;
  const grace = `client pods that have not exited when the operator's grace (--finished-client-grace-seconds) is over are deleted (phase Unknown), ${kept}`;
  if (notice === "unknown")
    return `the job failed, and why is lost (${terminal.reason}), so whether its server told its clients (they then exit by themselves) or the operator failed it (they are not told) is not known: ${grace}`;
  const who =
    terminal.phase === "Succeeded"
      ? "the job succeeded: its clients"
      : "the job failed on its server, which told its clients: they";
  return `${who} exit by themselves; ${grace}`;
}

function clientsCondition(input: StatusInput, clients: ClientStatus[]): ConditionUpdate {
  if (input.lifecycle.suspended)
    return cond("ClientsReady", false, "Suspended", "client pods are deleted while the job is suspended");
  // A finished job's clients list keeps each client's last observed state, but its unfinished pods
  // are deleted: counting those as running would leave the condition True for good.
  const terminal = input.lifecycle.terminal;
  if (terminal) return cond("ClientsReady", false, "JobFinished", finishedClientsText(terminal));
  const running = clients.filter((c) => c.phase === "Running" || c.phase === "Succeeded");
  const waiting = input.plans.filter((p) => p.state === "waiting").map((p) => p.index);
  const others = clients.filter((c) => !running.includes(c)).map((c) => c.index);
  if (others.length === 0)
    return cond("ClientsReady", true, "AllClientsRunning", `${clients.length} client pods running`);
  // each list bounded: the whole of a 10000-client job's would leave no room for the reasons
  const retry = waiting.length > 0 ? `; restarting after backoff: ${clientIndexList(waiting)}` : "";
  const why = clientsWhyText(clients.filter((c) => !running.includes(c)));
  return cond(
    "ClientsReady",
    false,
    waiting.length > 0 ? "ClientRestartBackoff" : "ClientsNotRunning",
    `${running.length} of ${clients.length} client pods running; not running: ${clientIndexList(others)}${retry}${why === "" ? "" : `; why: ${why}`}`,
  );
}

/** The conditions of the status to write, upserted by type over the previous ones. */
export function conditionUpdates(
  input: StatusInput,
  phase: Phase,
  clients: ClientStatus[],
  server: ServerStatus,
): ConditionUpdate[] {
  const { terminal, suspended } = input.lifecycle;
  return [
    cpuFallbackCondition(server, input.job.spec.server.gpus),
    input.rejected !== undefined
      ? cond("Created", false, input.rejected.reason, input.rejected.message)
      : cond(
          "Created",
          true,
          "ChildrenApplied",
          "run config, credentials, server and client pods are applied",
        ),
    serverCondition(input),
    clientsCondition(input, clients),
    // a finished or suspended job runs no client: its pods are deleted, or are about to be
    clientsConfigCondition(terminal || suspended ? [] : input.plans, input.desired ?? []),
    phase === "Running"
      ? cond("Running", true, "Training", "the server is available and clients are running")
      : cond("Running", false, phase === "Pending" ? "Starting" : phase, `the job is ${phase}`),
    suspended
      ? cond("Suspended", true, "SuspendedBySpec", "spec.suspend is true")
      : cond("Suspended", false, "NotSuspended", "spec.suspend is false"),
    // turned True when the job was recorded finished: now, or the recorded time of an outcome read back
    terminal?.phase === "Succeeded"
      ? { ...cond("Succeeded", true, terminal.reason, terminal.message), at: input.lifecycle.completionTime }
      : cond("Succeeded", false, "NotFinished", "training has not finished"),
    terminal?.phase === "Failed"
      ? { ...cond("Failed", true, terminal.reason, terminal.message), at: input.lifecycle.completionTime }
      : cond("Failed", false, "NoFailure", "no failure so far"),
    ...specCondition(input),
  ];
}

/**
 * SpecRejected while an edit is held; once one was, False again when the spec is applied. A finished
 * job's stays as it finished: no later spec is applied to it (ADR 0034); only the InvalidSpec one its
 * invalid spec set (ADR 0023, amendment 9) goes False once the spec reads again.
 */
function specCondition(input: StatusInput): ConditionUpdate[] {
  if (input.held) return [cond(SPEC_REJECTED, true, input.held.reason, input.held.message)];
  const previous = input.job.status;
  const was = previous?.conditions?.find((c) => c.type === SPEC_REJECTED);
  if (hasFinished(previous)) {
    if (was?.status !== "True" || was.reason !== INVALID_SPEC) return [];
    return [
      cond(SPEC_REJECTED, false, "SpecValid", "the spec is valid; the job has finished and runs no more"),
    ];
  }
  if (!was) return [];
  return [cond(SPEC_REJECTED, false, "SpecApplied", "the spec is applied to the job's children")];
}
