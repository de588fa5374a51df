// The answer to a spec edit of a finished job, which runs no more whatever its spec says (ADR 0034):
// once per edit, a Warning naming the fields that differ from the spec the job finished with (recorded
// on its ConfigMap) and how a new job goes on from this one's checkpoint (ADR 0044). Pure.
import type { SFPromptJob, Status } from "@sfprompt/api";
import { changedFields, type SpecRecord } from "../desired/spec-record.js";
import type { StatusWrite } from "../status/compute-status.js";
import { hasFinished, type ReadBackSource } from "../status/lifecycle.js";
import type { JobEvent } from "./transition-events.js";

export const FINISHED_SPEC_CHANGE_IGNORED = "FinishedSpecChangeIgnored";

export interface FinishedEditInput {
  previous: Status | undefined;
  job: SFPromptJob;
  /** The spec record on the job's ConfigMap as observed before this reconcile applied anything. */
  recorded?: SpecRecord | undefined;
  /** The status this reconcile writes: of a job whose stored status lost how it finished, the one read back. */
  next?: StatusWrite | undefined;
  /** Where this reconcile read the job's lost outcome back from, if it did (Lifecycle.readBack). */
  readBack?: ReadBackSource | undefined;
}

/** What an edit is compared with: the finished job's status, and the generation it last observed. */
interface Finished {
  phase: Status["phase"];
  rounds: number | undefined;
  lastCheckpoint: Status["lastCheckpoint"];
  generation: number | undefined;
}

/**
 * The finished job as its stored status says; where that status lost how the job finished and this
 * reconcile read it back, as read back, with the generation its spec record was written at: an edit
 * made while the status was lost is answered too (ADR 0034, amendment 7). The status written after the
 * loss observes the edited generation, so this is the one reconcile that can tell.
 */
function finishedAs(input: FinishedEditInput): Finished | undefined {
  const { previous, next, recorded } = input;
  if (hasFinished(previous))
    return {
      phase: previous!.phase,
      rounds: previous!.rounds,
      lastCheckpoint: previous!.lastCheckpoint,
      generation: previous!.observedGeneration,
    };
  if (input.readBack === undefined || recorded === undefined || next === undefined) return undefined;
  if (next.phase !== "Succeeded" && next.phase !== "Failed") return undefined;
  return {
    phase: next.phase,
    rounds: next.rounds,
    lastCheckpoint: next.lastCheckpoint,
    generation: recorded.generation,
  };
}

/** What a user does instead: a new job, going on from this one's checkpoint where there is one. */
function newJobAdvice(name: string, checkpoint: Status["lastCheckpoint"]): string {
  if (checkpoint === undefined)
    return "to run with the edited spec, create a new job; this job reported no checkpoint (status.lastCheckpoint is unset), so the new job starts at round 1";
  return (
    `to run with the edited spec, create a new job; with spec.output.resumeFrom.job: ${name} it goes on ` +
    `from this job's checkpoint of round ${checkpoint.round} (keep this job until the new one has checkpointed)`
  );
}

/** The ignored fields, rounds with their old and new value (status.rounds shows the old one). */
function ignoredFields(input: FinishedEditInput, was: number | undefined): string[] | undefined {
  const record = input.recorded;
  const wants = input.job.spec.training.rounds;
  const rounds = was !== undefined && was !== wants ? `spec.training.rounds ${was} → ${wants}` : undefined;
  // A job that finished under an operator that kept no record: only the rounds are known to differ.
  if (record === undefined) return rounds !== undefined ? [rounds] : undefined;
  const fields = changedFields(record, input.job.spec).map((f) =>
    f === "spec.training.rounds" && rounds !== undefined ? rounds : f,
  );
  return rounds !== undefined && !fields.includes(rounds) ? [rounds, ...fields] : fields;
}

/** The Warning for an edit of a finished job not yet observed; none when nothing it ran with differs. */
export function finishedEditEvent(input: FinishedEditInput): JobEvent | undefined {
  const { job } = input;
  const finished = finishedAs(input);
  if (finished === undefined || finished.generation === job.metadata.generation) return undefined;
  const was = finished.rounds;
  const fields = ignoredFields(input, was);
  // Only spec.ttlSecondsAfterFinished changed (the one field a finished job follows), or an edit was undone.
  if (fields?.length === 0) return undefined;
  const what =
    fields === undefined
      ? "the edit is ignored (the job finished under an operator that kept no record of its spec, so which fields changed is not known)"
      : `${fields.join(", ")} ${fields.length === 1 ? "differs" : "differ"} from the spec it ran with and ${fields.length === 1 ? "is" : "are"} ignored`;
  const rounds = fields?.some((f) => f.startsWith("spec.training.rounds "))
    ? `; status.rounds stays ${was}`
    : "";
  return {
    type: "Warning",
    reason: FINISHED_SPEC_CHANGE_IGNORED,
    message: `the job has finished (${finished.phase}) and does not run again: ${what}${rounds}; ${newJobAdvice(job.metadata.name, finished.lastCheckpoint)}`,
  };
}
