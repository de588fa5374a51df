// Holds an edit of spec.training.rounds that the job's newest checkpoint cannot resume under (for
// clusters without the webhook, or a status the webhook had not seen yet): the children keep the
// rounds they run with, the status says why (ADR 0039). Pure.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { SFPromptJob, Status } from "@sfprompt/api";
import { renderedRounds } from "../desired/config-map.js";
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
  /** The job as it goes on: the spec with the rounds it runs with, for the children and the status. */
  job: SFPromptJob;
  /** Why the edit is not applied, for the SpecRejected condition and the Warning event. */
  held?: { reason: string; message: string };
}

/** The job as edited when it can resume, else with the rounds it runs with and the reason. */
export function holdRounds(input: HoldInput): Held {
  const { job } = input;
  // A job that had finished is not run again whatever its spec says (ADR 0034): nothing to hold. One
  // that finishes in this reconcile still is held, so that its status keeps the rounds it ran with.
  if (hasFinished(input.previous)) return { job };
  const conflict = roundsConflict(job.spec, newestCheckpoint(input.progress, input.previous)?.round);
  if (!conflict) return { job };
  const rounds = heldRounds(conflict, renderedRounds(input.configMap), input.previous);
  // The run config holds nothing that an edit moves by itself (no generation, ADR 0040): with the
  // rounds kept, an edit that changed nothing else renders the very config the children have.
  return {
    job: { ...job, spec: { ...job.spec, training: { ...job.spec.training, rounds } } },
    held: { reason: ROUNDS_BELOW_CHECKPOINT, message: roundsHeldMessage(conflict, rounds) },
  };
}
