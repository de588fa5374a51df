// What `sfprompt run` would do with its run directory, told without touching it (sfprompt validate):
// the checks openRunDir and the run make on the folder before anything starts, read-only.
import type { Method, SFPromptJob } from "@sfprompt/api";
import { existsSync } from "node:fs";
import { RunDirError } from "./errors.js";
import { checkRunDirFree } from "./run-lock.js";
import { runDirWriteProblem } from "./run-dir-writable.js";
import {
  checkRoundsNotBehind,
  checkRunDirOwner,
  methodDirOf,
  runDirResumes,
  type ResumeMode,
  type RoundsSource,
} from "./run-dir.js";

export interface RunDirPlanInputs {
  readonly dir: string;
  readonly job: SFPromptJob;
  readonly methods: readonly Method[];
  readonly mode: ResumeMode;
  /** --nats: the job's store is on that server (not asked here), not in the folder. */
  readonly natsUrl?: string;
  readonly roundsSource: RoundsSource;
}

export interface RunDirPlan {
  /** What the run would do there, for the plan's line. */
  readonly what: string;
  /** The refusal sfprompt run would stop with (a RunDirError), if any. */
  readonly problem?: RunDirError;
}

/** The run directory's plan: whether the run would start there, resume, or be refused. */
export function runDirPlan(x: RunDirPlanInputs): RunDirPlan {
  const { dir, job, mode } = x;
  try {
    // the folder (or the one above it) this user cannot write in: the run is refused when it makes
    // the folder or its lock, first
    const unwritable = runDirWriteProblem(dir);
    if (unwritable !== undefined) throw unwritable;
    // another run holds it now: sfprompt run would be refused before it reads anything there
    checkRunDirFree(dir);
    checkRunDirOwner(dir, mode, job.metadata.name, job.spec.method);
    // with --nats the store is the server's: the folder is checked, the checkpoint is not looked for
    const asked = x.natsUrl === undefined ? undefined : { own: false };
    const resumes = runDirResumes(
      dir,
      mode === "resume" && asked ? "auto" : mode,
      job.spec.output.resume,
      asked,
    );
    if (resumes) {
      const dirs = x.methods.map((m) => methodDirOf(dir, job.spec.method, m));
      checkRoundsNotBehind(dir, dirs, job.spec.training.rounds, x.roundsSource);
      return {
        what: "holds an earlier session of this job: sfprompt run goes on from its checkpoint (--fresh starts clean)",
      };
    }
    if (x.natsUrl !== undefined)
      return { what: `the job's store on ${x.natsUrl} decides whether the run resumes` };
    return { what: existsSync(dir) ? "sfprompt run starts clean there" : "new" };
  } catch (e) {
    if (e instanceof RunDirError) return { what: "refused", problem: e };
    throw e;
  }
}
