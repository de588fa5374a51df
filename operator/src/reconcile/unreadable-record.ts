// The answer to a finished job's ConfigMap record edited into something that does not read: a Warning
// that names the annotation, says the job stays finished, and what the operator does about it (ADR
// 0023, amendment 22). Pure.
import { ANNOTATION_FINISHED_OUTCOME, ANNOTATION_FINISHED_SPEC } from "../names.js";
import { OUTCOME_UNKNOWN, type Terminal } from "../status/lifecycle.js";
import type { JobEvent } from "./transition-events.js";

export const FINISHED_RECORD_UNREADABLE = "FinishedRecordUnreadable";

export interface UnreadableRecordInput {
  /** The job's ConfigMap's name. */
  configMap: string;
  /** The annotations there that do not read (FinishedRecords.unreadable). */
  unreadable: readonly string[];
  /** The finished job's terminal as this reconcile decided it. */
  terminal: Terminal | undefined;
  /**
   * Whether this reconcile can write the spec record (a valid spec). An invalid spec's writes only the
   * outcome record (ADR 0023, amendment 25): the spec record waits for a spec that reads.
   */
  applies: boolean;
}

export function unreadableRecordEvent(input: UnreadableRecordInput): JobEvent | undefined {
  const { unreadable, terminal } = input;
  if (unreadable.length === 0) return undefined;
  const written = "is written again";
  const specWritten = input.applies ? written : `${written} once the spec is valid`;
  const what: string[] = [];
  if (unreadable.includes(ANNOTATION_FINISHED_SPEC))
    what.push(
      `the spec record ${specWritten} from the spec as it then is (FinishedSpecChangeIgnored no longer names fields edited before)`,
    );
  if (unreadable.includes(ANNOTATION_FINISHED_OUTCOME))
    what.push(
      terminal === undefined || terminal.reason === OUTCOME_UNKNOWN
        ? "how the job finished is not known where its status lost it: it is held as Failed (OutcomeUnknown)"
        : `the outcome record ${written} from what the job's status says (${terminal.phase}, ${terminal.reason})`,
    );
  const names = unreadable.join(" and ");
  return {
    type: "Warning",
    reason: FINISHED_RECORD_UNREADABLE,
    message:
      `the job's ConfigMap ${input.configMap} carries ${unreadable.length === 1 ? "annotation" : "annotations"} ` +
      `${names}, written by the operator as the job finished, but edited into something that does not read: ` +
      `the job counts as finished all the same and is not started again; ${what.join("; ")}. Leave the ` +
      `sfprompt.io/finished-* annotations as the operator writes them; to train again, create a new job`,
  };
}
