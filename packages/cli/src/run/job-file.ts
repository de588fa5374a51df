// Reads the SFPromptJob manifest `sfprompt run` was given (the same YAML `kubectl apply` takes) and
// applies command-line overrides; validation errors name the field (spec.training.rounds, ...).
import { readFileSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import {
  JobValidationError,
  loadJobManifest,
  ManifestError,
  parseJob,
  toRunConfig,
  type Method,
  type RunConfig,
  type SFPromptJob,
} from "@sfprompt/api";
import {
  checkBuiltinClasses,
  ClassCountError,
  JobPartitionError,
  RunConfigError,
  trainingSplit,
  type ModelInputShape,
  type TrainingSplit,
} from "@sfprompt/core";
import { JobFileError } from "./errors.js";

export interface JobOverrides {
  readonly rounds?: number;
}

/** What to do when the job file cannot be read, by the read's error code. */
const READ_HINTS: Readonly<Record<string, string>> = {
  ENOENT: "no such file; give the path of an SFPromptJob manifest, e.g. examples/demo-job.yaml",
  EISDIR: "it is a folder; give the manifest file in it, e.g. DIR/job.yaml",
  EACCES: "no permission to read it; check its mode and owner",
  EPERM: "no permission to read it; check its mode and owner",
  ENOTDIR: "a part of the path is a file, not a folder; check the path",
};

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "error";
    const hint = READ_HINTS[code] ?? (cause as Error).message;
    throw new JobFileError(path, `cannot read the job file (${code}): ${hint}`, { cause });
  }
}

/** The job of the manifest's text; its errors (YAML, no SFPromptJob, invalid fields) name the file. */
function parseManifest(path: string, text: string): SFPromptJob {
  try {
    return loadJobManifest(text);
  } catch (cause) {
    if (cause instanceof ManifestError || cause instanceof JobValidationError)
      throw new JobFileError(path, cause.message, { cause });
    throw cause;
  }
}

/** The validated, defaulted job of the manifest at `path`. */
export function readJobFile(path: string, overrides: JobOverrides = {}): SFPromptJob {
  const job = structuredClone(parseManifest(path, readText(path)));
  if (overrides.rounds === undefined) return job;
  job.spec.training.rounds = overrides.rounds;
  // the manifest's limits hold for the override too (spec.training.rounds ≤ 100000)
  const checked = parseJob(job);
  if (!checked.ok)
    throw new JobFileError(
      path,
      `--rounds ${overrides.rounds} does not fit the job: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
    );
  return checked.value;
}

/**
 * Refuses spec.output.resumeFrom without --nats: the source job's store lives on the NATS server that
 * job ran on, and the nats-server `sfprompt run` starts for this run directory has none of it.
 */
export function checkResumeFromReachable(path: string, job: SFPromptJob, natsUrl: string | undefined): void {
  const from = job.spec.output.resumeFrom;
  if (from === undefined || natsUrl !== undefined) return;
  throw new JobFileError(
    path,
    `spec.output.resumeFrom.job ${from.job}: that job's checkpoints are on the NATS server it ran on, ` +
      "not in the nats-server sfprompt run starts for this folder; give that server with --nats URL, " +
      "or drop spec.output.resumeFrom to start at round 1",
  );
}

/**
 * Refuses a job whose built-in data has more classes than spec.classes.numClasses, before anything
 * starts: its clients would meet the first label beyond it mid-round. Reads no data.
 */
export function checkJobClasses(path: string, job: SFPromptJob): void {
  try {
    checkBuiltinClasses(runConfigFor(job, job.spec.method));
  } catch (cause) {
    if (cause instanceof ClassCountError) throw new JobFileError(path, cause.message, { cause });
    throw cause;
  }
}

/**
 * Refuses a job whose training data (built-in, or the folder or JSONL file at its path here) cannot
 * be split among its clients as spec.data.partitioning says, before anything starts: every client
 * would fail on its own, after nats-server and the server had started. The split is checked for the
 * first of `methods` that has clients (a centralized job's --compare baselines share its
 * partitioning); with none, the data is only counted. Returns the split found, or undefined where
 * the data cannot be read here (the processes that read it say why).
 */
export async function checkJobSplit(
  path: string,
  job: SFPromptJob,
  methods: readonly Method[],
  model: ModelInputShape = {},
): Promise<TrainingSplit | undefined> {
  const federated = methods.find((m) => m !== "centralized") ?? job.spec.method;
  try {
    return await trainingSplit(runConfigFor(job, federated), model);
  } catch (cause) {
    if (cause instanceof JobPartitionError)
      throw new JobFileError(path, `${cause.message}${ownDataSplit(job)}`, { cause });
    // data of the other kind than the model takes (spec.data.source: ... holds images, but the model
    // takes text): the job file's error, as the split's
    if (cause instanceof RunConfigError) throw new JobFileError(path, cause.message, { cause });
    throw cause;
  }
}

/**
 * For folder or JSONL data: "; sfprompt run splits the JSONL file X among the clients on this
 * machine ...", which a user who wrote no strategy does not expect, with the way to give each
 * client all of it; "" for built-in data, whose message says enough.
 */
function ownDataSplit(job: SFPromptJob): string {
  const s = job.spec.data.source;
  const data = s.jsonl
    ? `the JSONL file ${s.jsonl.path}`
    : s.imageFolder
      ? `the image folder ${s.imageFolder.path}`
      : undefined;
  if (data === undefined) return "";
  const strategy = job.spec.data.partitioning.strategy;
  const how = strategy === undefined ? "iid, as spec.data.partitioning.strategy is unset" : strategy;
  return (
    `; sfprompt run splits ${data} among the clients on this machine (${how}): ` +
    "spec.data.partitioning.strategy none gives every client all of it"
  );
}

/**
 * The run config of `job` run with `method` (baselines get their own job name: <name>-<method>).
 * A metadata.uid (a manifest copied from a cluster) is dropped: the run's spec is its file, and the
 * runtime's errors advise editing it, not creating a new cluster job (@sfprompt/core jobHome).
 */
export function runConfigFor(job: SFPromptJob, method: Method): RunConfig {
  const copy = structuredClone(job);
  delete copy.metadata.uid;
  if (method === job.spec.method) return toRunConfig(copy);
  copy.metadata.name = `${job.metadata.name}-${method}`;
  copy.spec.method = method;
  // the source job's checkpoint is of the job's own method: a baseline starts at round 1
  delete copy.spec.output.resumeFrom;
  // a bucket holds one job's checkpoints (their names carry no job): a baseline sharing the job's
  // spec.output.bucket would collide with it, so it writes to its own default bucket (ADR 0045)
  delete copy.spec.output.bucket;
  return toRunConfig(copy);
}

/** Why `p` cannot be the data the job names (a folder for imageFolder, else a file), or undefined. */
function dataPathProblem(p: string, folder: boolean): string | undefined {
  try {
    const isFolder = statSync(p).isDirectory();
    if (folder && !isFolder) return "is not a folder: imageFolder takes a folder of class folders";
    if (!folder && isFolder) return "is a folder: jsonl takes a JSON Lines file";
    return undefined;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "error";
    if (code !== "ENOENT") return `cannot be read here (${code})`;
    // a path next to the job file is the usual mistake: relative paths are not taken from there
    const relative = isAbsolute(p)
      ? ""
      : ` (a relative path is taken from the current folder, ${process.cwd()})`;
    return `does not exist on this machine${relative}`;
  }
}

/**
 * Why the job's folder or JSONL data is not at its path on this machine, one error per source
 * (spec.data.source, and spec.data.evalSource when evaluation is on); empty when all are there. The
 * local server and clients read them there and would each fail on their own.
 */
export function jobDataPathProblems(path: string, job: SFPromptJob): JobFileError[] {
  const { data, training } = job.spec;
  const sources: Array<["source" | "evalSource", typeof data.source]> = [["source", data.source]];
  if (data.evalSource !== undefined && training.evaluation.everyRounds > 0)
    sources.push(["evalSource", data.evalSource]);
  return sources.flatMap(([key, source]) => {
    const problem = sourcePathProblem(source, `spec.data.${key}`);
    if (problem === undefined) return [];
    return [
      new JobFileError(
        path,
        `${problem}; sfprompt run reads the job's data here ` +
          "(its clients share this one copy; on a cluster each client reads the path on its own node): " +
          "give the path of your data on this machine",
      ),
    ];
  });
}

/**
 * "spec.data.source.jsonl.path: /d/x.jsonl does not exist on this machine" when the folder or JSONL
 * data `source` names (at `field`) is not at its path here; undefined when it is, or is built in.
 */
export function sourcePathProblem(
  source: SFPromptJob["spec"]["data"]["source"],
  field: string,
): string | undefined {
  const [kind, at] = source.jsonl
    ? (["jsonl", source.jsonl.path] as const)
    : source.imageFolder
      ? (["imageFolder", source.imageFolder.path] as const)
      : [];
  const problem = at === undefined ? undefined : dataPathProblem(at, kind === "imageFolder");
  return problem === undefined ? undefined : `${field}.${kind}.path: ${at} ${problem}`;
}
