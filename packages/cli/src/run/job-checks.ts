// The checks `sfprompt run` makes of a job before it starts anything (no nats-server, no run folder,
// no model built), and `sfprompt validate` makes alone: one set, called by both. Independent checks
// all run, so that a job with several problems has them all said at once.
import type { Method, RunConfig, SFPromptJob } from "@sfprompt/api";
import { evalOverlap, type DataUnread, type TrainingSplit } from "@sfprompt/core";
import { dataInputError } from "../proc/job-data.js";
import { methodsToRun } from "./compare-methods.js";
import { JobFileError } from "./errors.js";
import {
  checkJobClasses,
  checkJobSplit,
  checkResumeFromReachable,
  jobDataPathProblems,
  readJobFile,
  runConfigFor,
  sourcePathProblem,
} from "./job-file.js";
import { builtinShapeProblems, checkModelFile, type ModelInputs } from "./model-check.js";
import { checkModelSource } from "./model-source.js";

export interface JobCheckOptions {
  readonly jobFile: string;
  readonly natsUrl?: string;
  readonly rounds?: number;
  readonly compare: boolean;
  /** With compare: only these baselines (default: every one). */
  readonly compareMethods?: readonly Method[];
}

export interface JobCheck {
  readonly job: SFPromptJob;
  /** The methods the run trains, the job's own first. */
  readonly methods: Method[];
  /** How the training data splits among the clients; undefined where it cannot be read here. */
  readonly split?: TrainingSplit;
  /** Whether spec.model.source can be had here (checkModelSource passed). */
  readonly modelFound: boolean;
  /** The model file as read and checked; none for a built-in model not cached yet, or a problem. */
  readonly model?: ModelInputs;
  /** Each problem found, naming its field, in the order the checks run; empty when none. */
  readonly problems: JobFileError[];
}

/**
 * Reads the job file (a read, YAML or schema error is thrown: nothing else can be checked) and runs
 * every check on it: spec.output.resumeFrom's server, built-in classes, the model source, the data
 * paths, the data's kinds and its split among the clients. Reads the data here (labels only); builds,
 * fetches and starts nothing.
 */
export async function checkJob(o: JobCheckOptions): Promise<JobCheck> {
  const job = readJobFile(o.jobFile, o.rounds === undefined ? {} : { rounds: o.rounds });
  const methods = methodsToRun(job.spec.method, o.compare, o.compareMethods);
  const problems: JobFileError[] = [];
  const attempt = async <T>(check: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await check();
    } catch (e) {
      if (!(e instanceof JobFileError)) throw e;
      problems.push(e);
      return undefined;
    }
  };
  await attempt(() => checkResumeFromReachable(o.jobFile, job, o.natsUrl));
  await attempt(() => checkJobClasses(o.jobFile, job));
  const primary = runConfigFor(job, job.spec.method);
  const modelFound = await attempt(() => {
    checkModelSource(primary, o.jobFile);
    return true;
  });
  // the model file's graph: that it is ONNX, its inputs against spec.model.tokenizer, and the sample
  // shape the data is read against (once split, the processes would refuse the rest)
  const model = modelFound === true ? await attempt(() => checkModelFile(primary, o.jobFile)) : undefined;
  if (model !== undefined) problems.push(...builtinShapeProblems(primary, model, o.jobFile));
  problems.push(...jobDataPathProblems(o.jobFile, job));
  const shape = model?.sampleShape === undefined ? {} : { shape: model.sampleShape };
  const split = await attempt(() => checkJobSplit(o.jobFile, job, methods, shape));
  problems.push(...unreadProblems(o.jobFile, job, split?.unread ?? []));
  return {
    job,
    methods,
    ...(split === undefined ? {} : { split }),
    modelFound: modelFound === true,
    ...(model === undefined ? {} : { model }),
    problems,
  };
}

/**
 * Data the split check could not read here (a JSONL line that is not JSON, an image folder without
 * images, a built-in set that is not there or not readable by this user): the server and clients
 * would read the same data and stop on it, after nats-server and they had started, so sfprompt run
 * refuses it first, as validate does. A path already said to be missing is not said again. The
 * processes keep their own checks (on a cluster nothing reads the data before they do).
 */
function unreadProblems(file: string, job: SFPromptJob, unread: readonly DataUnread[]): JobFileError[] {
  return unread.flatMap((u) => {
    const source = u.field === "spec.data.source" ? job.spec.data.source : job.spec.data.evalSource;
    if (source === undefined || sourcePathProblem(source, u.field) !== undefined) return [];
    // the message the server or clients would stop with (proc/job-data.ts)
    const detail = dataInputError(source, u.field, u.error).message;
    return [new JobFileError(file, detail, { cause: u.error })];
  });
}

/**
 * The error `sfprompt run` stops with for the problems: the one problem's own, or all of them under
 * the file's name ("job.yaml: 2 problems:" and one indented line each), as the schema's are said.
 */
export function problemsError(jobFile: string, problems: readonly JobFileError[]): JobFileError | undefined {
  if (problems.length <= 1) return problems[0];
  return new JobFileError(
    jobFile,
    `${problems.length} problems:\n${problems.map((p) => `  ${p.detail}`).join("\n")}`,
    { cause: new AggregateError(problems) },
  );
}

/**
 * The warning for a held-out set that is the training data (the same file or folder here, by any
 * path), or undefined: the server only logs it, and the user would read the inflated accuracy on the
 * progress lines without a word.
 */
export async function evalIsTrainingDataWarning(c: RunConfig): Promise<string | undefined> {
  if (c.training.evaluation.everyRounds <= 0) return undefined;
  const overlap = await evalOverlap(c);
  if (overlap === undefined) return undefined;
  return (
    `warning: spec.data.evalSource (${overlap.evalSource}) is the training data of spec.data.source ` +
    `(${overlap.source}): the accuracy is measured on samples the clients train on and overstates ` +
    "what the model learned; point spec.data.evalSource at a held-out set"
  );
}
