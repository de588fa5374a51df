// Whether a spec's training.rounds still covers the job's newest checkpoint. A server resuming under
// fewer rounds than a checkpoint's round refuses it (ResumeMismatchError, ADR 0035) and the job fails
// for good (ADR 0037), so the webhook refuses such an edit and the reconciler holds it (ADR 0039). Pure.
import type { SFPromptJob, Status } from "@sfprompt/api";

/** The reason of the SpecRejected condition and of the Warning event while the edit is held. */
export const ROUNDS_BELOW_CHECKPOINT = "RoundsBelowCheckpoint";

/** The condition type that says the spec's last edit is not applied (and why). */
export const SPEC_REJECTED = "SpecRejected";

export interface RoundsConflict {
  /** spec.training.rounds as edited. */
  rounds: number;
  /** Round of the newest checkpoint the job would resume from. */
  checkpointRound: number;
}

type SpecPart = Pick<SFPromptJob["spec"], "training" | "output">;

/**
 * The conflict when `spec` cannot resume from a checkpoint of `checkpointRound`; undefined when it can,
 * when there is no checkpoint, or when the spec does not resume (output.resume false starts over).
 */
export function roundsConflict(
  spec: SpecPart,
  checkpointRound: number | undefined,
): RoundsConflict | undefined {
  if (checkpointRound === undefined || !spec.output.resume) return undefined;
  const rounds = spec.training.rounds;
  return rounds < checkpointRound ? { rounds, checkpointRound } : undefined;
}

/** What to do about it, for the webhook's refusal and the condition alike. */
export function roundsAdvice(c: RoundsConflict): string {
  return (
    `set spec.training.rounds to ${c.checkpointRound} or more (${c.checkpointRound} stops after the ` +
    `checkpointed round), or set spec.output.resume: false to start over from round 0 (this deletes ` +
    `the job's checkpoints), or create a new job`
  );
}

/** The webhook's message for the field spec.training.rounds. */
export function roundsRefusal(c: RoundsConflict): string {
  return (
    `${c.rounds} is below round ${c.checkpointRound} of the job's newest checkpoint ` +
    `(status.lastCheckpoint): its server could not resume from it and the job would fail for good; ` +
    roundsAdvice(c)
  );
}

/** The SpecRejected condition's message while the reconciler holds the edit at `heldRounds`. */
export function roundsHeldMessage(c: RoundsConflict, heldRounds: number): string {
  return (
    `spec.training.rounds ${c.rounds} is below round ${c.checkpointRound} of the job's newest ` +
    `checkpoint, from which its server could not resume: that value is not applied and the job goes on ` +
    `with spec.training.rounds ${heldRounds}; ${roundsAdvice(c)}`
  );
}

/**
 * The rounds the job goes on with while an edit is held: those of the run config its children have
 * (`deployed`), else the last status's, as long as they cover the checkpoint; else the checkpoint's
 * round itself (the least that resumes).
 */
export function heldRounds(
  c: RoundsConflict,
  deployed: number | undefined,
  previous: Pick<Status, "rounds"> | undefined,
): number {
  const fits = (r: number | undefined): r is number => r !== undefined && r >= c.checkpointRound;
  if (fits(deployed)) return deployed;
  if (fits(previous?.rounds)) return previous.rounds;
  return c.checkpointRound;
}
