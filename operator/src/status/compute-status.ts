// The job's status as a pure function of what the reconciler observed: the lifecycle decision, the
// server Deployment, the client pods (through their plans) and the progress snapshot from NATS. The
// clients' entries and the conditions are computed in client-statuses.ts and job-conditions.ts.
import type { ClientStatus, Status } from "@sfprompt/api";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import { clientStatuses } from "./client-statuses.js";
import { communicationOf } from "./communication.js";
import { upsertConditions } from "./conditions.js";
import { conditionUpdates, serverAvailable } from "./job-conditions.js";
import { hasFinished } from "./lifecycle.js";
import { statusRound } from "./job-round.js";
import { serverStatusOf } from "./server-status.js";
import { statusMessage } from "./status-message.js";
import type { StatusInput, StatusWrite } from "./status-input.js";
import { stripUndefined } from "./strip-undefined.js";

export type { StatusInput, StatusWrite } from "./status-input.js";

type Phase = NonNullable<Status["phase"]>;

function phaseOf(input: StatusInput, clients: ClientStatus[]): Phase {
  const { lifecycle } = input;
  if (lifecycle.terminal) return lifecycle.terminal.phase;
  if (lifecycle.suspended) return "Suspended";
  if (serverAvailable(input.deployment) && clients.some((c) => c.phase === "Running")) return "Running";
  return "Pending";
}

/**
 * The job's newest checkpoint: the followed run attempt's (a run started over has none of the attempt
 * before), else the progress view's or the last written status's while the replay has not caught up.
 */
export function newestCheckpoint(
  progress: ProgressSnapshot | undefined,
  previous: Pick<Status, "lastCheckpoint"> | undefined,
  finished = false,
): Status["lastCheckpoint"] {
  const own = progress !== undefined && progress.attempts.current !== undefined && !finished;
  return own ? progress.lastCheckpoint : (progress?.lastCheckpoint ?? previous?.lastCheckpoint);
}

/** The status to write: the previous conditions upserted with the new ones, everything else recomputed. */
export function computeStatus(input: StatusInput): StatusWrite {
  const { job, lifecycle, progress } = input;
  const previous = job.status;
  const finished = hasFinished(previous);
  // A finished job reports the rounds it ran with: an edit after it finished changes nothing (ADR 0034);
  // where its status lost them, its kept ConfigMap's run config says them (amendment 4)
  const ranWith = finished ? previous?.rounds : undefined;
  const rounds =
    ranWith ?? (lifecycle.terminal ? input.ranWithRounds : undefined) ?? job.spec.training.rounds;
  // the replay's round, the last written one, or a finished job's highest known (ADR 0034, amendments 6, 8)
  const round = statusRound(previous, progress, input.recordedRound);
  const clients = clientStatuses(input);
  const phase = phaseOf(input, clients);
  const server = serverStatusOf(job, input.deployment, progress);
  const generation = job.metadata.generation;
  const conditions = upsertConditions(
    previous?.conditions ?? [],
    conditionUpdates(input, phase, clients, server),
    input.now.toISOString(),
    generation,
  );
  // A caught-up replay that follows a run attempt holds all there is of it: the bytes and checkpoint
  // the last written status has from an attempt before (a run started over) are not this run's.
  const own = progress !== undefined && progress.attempts.current !== undefined && !finished;
  const comm = own ? communicationOf(progress) : (communicationOf(progress) ?? previous?.communication);
  const metrics = progress
    ? stripUndefined({
        loss: progress.loss,
        accuracy: progress.accuracy,
        bestAccuracy: progress.bestAccuracy,
        bestRound: progress.bestRound,
      })
    : previous?.metrics;
  const checkpoint = newestCheckpoint(progress, previous, finished);
  // the rounds another job trained (ADR 0046): the followed attempt's, as the bytes are
  const resumedFrom = own ? progress.resumedFrom : (progress?.resumedFrom ?? previous?.resumedFrom);
  return stripUndefined({
    phase,
    conditions,
    observedGeneration: generation,
    round,
    rounds,
    progress: `${round}/${rounds}`,
    message: statusMessage(phase, conditions),
    resumedFrom,
    clients,
    clientRevision: lifecycle.terminal ? undefined : input.clientRevision,
    server,
    metrics: metrics && Object.keys(metrics).length > 0 ? metrics : undefined,
    communication: comm,
    lastCheckpoint: checkpoint,
    natsUrls: usedUrls(previous?.natsUrls, input.natsUrl),
    startTime: lifecycle.startTime,
    completionTime: lifecycle.completionTime,
  });
}

/** NATS URLs used so far, oldest first, with `now` last; the 16 newest (what the schema allows). */
function usedUrls(before: readonly string[] | undefined, now: string | undefined): string[] | undefined {
  const all = [...(before ?? []).filter((u) => u !== now), ...(now !== undefined ? [now] : [])];
  return all.length > 0 ? all.slice(-16) : undefined;
}
