// Holds an edit of spec.training.rounds that the job's newest checkpoint cannot resume under (for
// clusters without the webhook, or a status the webhook had not seen yet): the children keep the
// rounds they run with, the status says why (ADR 0039). Pure.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { SFPromptJob, Status } from "@sfprompt/api";
import { renderRunConfig, renderedConfig } from "../desired/config-map.js";
import type { ProgressSnapshot } from "../progress/snapshot.js";
import {
  ROUNDS_BELOW_CHECKPOINT,
  heldRounds,
  roundsConflict,
  roundsHeldMessage,
} from "../status/checkpoint-rounds.js";
import { newestCheckpoint } from "../status/compute-status.js";
import { hasFinished } from "../status/lifecycle.js";

export interface HoldInput {
  job: SFPromptJob;
  previous: Status | undefined;
  progress: ProgressSnapshot | undefined;
  /** The job's ConfigMap as observed: the run config its server and clients were given. */
  configMap: V1ConfigMap | undefined;
}

export interface Held {
  /** The job for the status: the spec with the rounds it goes on with. */
  job: SFPromptJob;
  /** The job to derive the children from: the same, of the generation its run config has if only that differs. */
  children: SFPromptJob;
  /** Why the edit is not applied, for the SpecRejected condition and the Warning event. */
  held?: { reason: string; message: string };
}

/** The job as edited when it can resume, else with the rounds it runs with and the reason. */
export function holdRounds(input: HoldInput): Held {
  const { job } = input;
  // A job that had finished is not run again whatever its spec says (ADR 0034): nothing to hold. One
  // that finishes in this reconcile still is held, so that its status keeps the rounds it ran with.
  if (hasFinished(input.previous)) return { job, children: job };
  const conflict = roundsConflict(job.spec, newestCheckpoint(input.progress, input.previous)?.round);
  if (!conflict) return { job, children: job };
  const deployed = renderedConfig(input.configMap);
  const rounds = heldRounds(conflict, deployed.rounds, input.previous);
  const kept: SFPromptJob = { ...job, spec: { ...job.spec, training: { ...job.spec.training, rounds } } };
  // The run config records the generation it was rendered from, so a held edit would still roll the
  // server; when the edit changed nothing else, the children keep the config they have.
  const same: SFPromptJob = {
    ...kept,
    metadata: { ...kept.metadata, generation: deployed.generation ?? kept.metadata.generation },
  };
  return {
    job: kept,
    children: renderRunConfig(same) === deployed.text ? same : kept,
    held: { reason: ROUNDS_BELOW_CHECKPOINT, message: roundsHeldMessage(conflict, rounds) },
  };
}
