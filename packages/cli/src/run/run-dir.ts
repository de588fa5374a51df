// The run directory of `sfprompt run`: where it is, whether this run resumes the last one (the
// JetStream store under nats/ holds its checkpoints) or starts clean, and its file names.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Method, SFPromptJob } from "@sfprompt/api";
import { unreadableDetail } from "@sfprompt/core";
import { RunDirError } from "./errors.js";
import { runDirNotWritable } from "./run-dir-writable.js";
import { RunMetricsSchema, type RunMetrics } from "./metrics.js";
import { OWNED, RUN_FILES } from "./run-files.js";
import { checkRunFolder, RUN_FOLDER_MARK } from "./run-folder.js";
import { plural } from "../plural.js";
import { sourceWhere, type SourceCheckpoint } from "./resume-source.js";

export type ResumeMode = "auto" | "resume" | "fresh";

export { partialOf, RUN_FILES } from "./run-files.js";
export { RUN_FOLDER_MARK } from "./run-folder.js";

/** Where a method's files go: the run directory for the job's own, methods/<method>/ for a baseline. */
export function methodDirOf(dir: string, jobMethod: Method, method: Method): string {
  return method === jobMethod ? dir : join(dir, RUN_FILES.methods, method);
}

/** The run directory: --out, else spec.output.path, else runs/<job name>. */
export function runDirOf(job: SFPromptJob, out: string | undefined): string {
  return out ?? job.spec.output.path ?? join("runs", job.metadata.name);
}

/**
 * True when `dir` holds a JetStream store from an earlier run (its checkpoints). A store it cannot
 * list (another user's run, or a file named nats/) is a RunDirError: neither resuming nor starting
 * over can go on with it.
 */
export function hasCheckpoint(dir: string): boolean {
  const nats = join(dir, RUN_FILES.nats);
  if (!existsSync(nats)) return false;
  try {
    return readdirSync(nats).length > 0;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    const what =
      code === "ENOTDIR"
        ? "is a file, not a folder; add --fresh to remove it"
        : "cannot be read by this user (an earlier run as another user?); run as that user or change the owner";
    throw new RunDirError(
      dir,
      `its JetStream store ${nats} ${what}, or choose another folder with --out DIR (${code})`,
      { cause },
    );
  }
}

/**
 * The checkpoints a session could go on from: the job's own (its store), and with --nats
 * spec.output.resumeFrom's, which the server reads when the job has none of its own (ADR 0044).
 */
export interface CheckpointsFound {
  readonly own: boolean;
  /** The job's own bucket on the --nats server, named when --resume finds nothing. */
  readonly ownBucket?: string;
  readonly resumeFrom?: SourceCheckpoint;
}

/** Refuses --resume when neither the job's own store nor its resumeFrom source holds a checkpoint. */
function checkResumable(dir: string, found: CheckpointsFound): void {
  if (found.own || (found.resumeFrom?.round ?? null) !== null) return;
  if (found.resumeFrom === undefined)
    throw new RunDirError(
      dir,
      "has no checkpoint to resume (no nats/ store, or none on the --nats server); run without --resume to start",
    );
  const own =
    found.ownBucket === undefined ? "the job's own store" : `the job's own bucket ${found.ownBucket}`;
  throw new RunDirError(
    dir,
    `has no checkpoint to resume: none in ${own} on the --nats server, nor in ${sourceWhere(found.resumeFrom)}; ` +
      "name a job whose bucket holds a checkpoint in spec.output.resumeFrom.job, or drop spec.output.resumeFrom and run without --resume to start at round 1",
  );
}

/**
 * openRunDir's checks, which change nothing (sfprompt validate makes them alone): the folder is one a
 * run may use (a folder, of a run or empty), and --resume has a checkpoint. Whether the run resumes.
 */
export function runDirResumes(
  dir: string,
  mode: ResumeMode,
  specResume: boolean,
  asked?: CheckpointsFound,
): boolean {
  return runDirChecks(dir, mode, specResume, asked).resumes;
}

function runDirChecks(
  dir: string,
  mode: ResumeMode,
  specResume: boolean,
  asked?: CheckpointsFound,
): { resumes: boolean } {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new RunDirError(dir, "exists and is not a folder");
  checkRunFolder(dir);
  // a fresh start looks for no checkpoint: it removes the store, whatever it holds
  const found = asked ?? { own: mode !== "fresh" && hasCheckpoint(dir) };
  if (mode === "resume") checkResumable(dir, found);
  return { resumes: found.own && (mode === "resume" || (mode === "auto" && specResume)) };
}

/**
 * Decides resume vs fresh and readies the folder. auto resumes when a checkpoint exists and the spec
 * allows it (spec.output.resume, default true); fresh removes what an earlier run wrote. `asked`
 * defaults to the local store under nats/; with --nats the caller asks that server instead. --resume
 * on a job without a checkpoint of its own but with a source one (resumeFrom) starts clean, and the
 * server goes on from the source's. Marks the folder as a run's (RUN_FOLDER_MARK): the caller
 * removes the mark at the end when it is all the folder holds (removeLoneMark).
 */
export function openRunDir(
  dir: string,
  mode: ResumeMode,
  specResume: boolean,
  asked?: CheckpointsFound,
): { resumed: boolean } {
  const { resumes: resumed } = runDirChecks(dir, mode, specResume, asked);
  try {
    mkdirSync(dir, { recursive: true });
    // before the earlier run's files go: with them gone, the mark alone says the folder is a run's
    if (!existsSync(join(dir, RUN_FOLDER_MARK)))
      writeFileSync(
        join(dir, RUN_FOLDER_MARK),
        "This folder is an sfprompt run's (sfprompt run writes its files here; docs/quickstart.md).\n",
      );
    if (!resumed) for (const f of OWNED) rmSync(join(dir, f), { recursive: true, force: true });
    accessSync(dir, constants.W_OK);
  } catch (cause) {
    // a read-only file system, an earlier run's file another user owns, no permission: lockRunDir's words
    throw runDirNotWritable(dir, (cause as NodeJS.ErrnoException).code ?? String(cause), cause);
  }
  return { resumed };
}

/**
 * The metrics of an earlier session of this run, when resuming (else undefined). One this user may
 * not read (an earlier run as root, at 0600) is said with the chmod, not as JSON: --fresh would
 * remove a run's results that are whole (ADR 0016 amendment 65).
 */
export function readMetrics(path: string): RunMetrics | undefined {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const unreadable = unreadableDetail({ path, kind: "file", where: "on this machine" }, cause);
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    const detail =
      unreadable ?? `${basename(path)} cannot be read (${code}); run with --fresh to start clean`;
    throw new RunDirError(dirname(path), detail, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new RunDirError(
      dirname(path),
      `${basename(path)} is not valid JSON (${(cause as Error).message}); run with --fresh to start clean`,
      { cause },
    );
  }
  const parsed = RunMetricsSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Refuses a run directory that holds another job's (or another method's) run unless --fresh: its
 * checkpoint would not be this job's, so "resuming" would mix the two jobs' rounds in metrics.json,
 * and a fresh start would silently delete the other job's results.
 */
export function checkRunDirOwner(dir: string, mode: ResumeMode, job: string, method: string): void {
  // a folder that is not a run's is refused as such first: its metrics.json (not JSON, say) is not
  // a run's to tell the user about, nor --fresh the way out
  checkRunFolder(dir);
  if (mode === "fresh") return;
  const earlier = readMetrics(join(dir, RUN_FILES.metrics));
  if (earlier === undefined || (earlier.job === job && earlier.method === method)) return;
  throw new RunDirError(
    dir,
    `holds a run of job "${earlier.job}" (method ${earlier.method}), not of "${job}" (method ${method}); choose another folder with --out DIR, or add --fresh to replace that run`,
  );
}

/** Where `--rounds N` or the manifest's spec.training.rounds asked for the rounds. */
export type RoundsSource = "--rounds" | "spec.training.rounds";

/**
 * Refuses to resume a run whose methods (their metrics.json in `dirs`) already trained more rounds
 * than asked: the server would find the job done and report all of them, against "round 11/2"
 * progress. Trained rounds cannot be undone, so the user says whether to go on or start over.
 */
export function checkRoundsNotBehind(
  runDir: string,
  dirs: readonly string[],
  rounds: number,
  source: RoundsSource,
): void {
  const done = Math.max(
    0,
    ...dirs.flatMap((d) => (readMetrics(join(d, RUN_FILES.metrics))?.rounds ?? []).map((r) => r.round)),
  );
  if (done <= rounds) return;
  throw roundsBehind(runDir, done, "", rounds, source);
}

/**
 * Refuses to resume from a checkpoint of a round past the rounds asked for: the killed session's
 * server may have trained and checkpointed rounds that its metrics.json never recorded (it wrote
 * them as it heard of them), so checkRoundsNotBehind passes, and the server would fail the job with
 * spec.training.rounds and spec.output.resume in its words. Told once the store can be asked, before
 * any process starts (ADR 0016 amendment 29).
 */
export function checkCheckpointNotBehind(
  runDir: string,
  checkpoint: number,
  rounds: number,
  source: RoundsSource,
): void {
  if (checkpoint <= rounds) return;
  const where = ` (the newest checkpoint in its store is of round ${checkpoint})`;
  throw roundsBehind(runDir, checkpoint, where, rounds, source);
}

function roundsBehind(
  runDir: string,
  done: number,
  where: string,
  rounds: number,
  source: RoundsSource,
): RunDirError {
  return new RunDirError(
    runDir,
    `its run already trained ${plural(done, "round")}${where}, more than the ${rounds} ${source} asks for; ` +
      `give --rounds ${done} (or more, to go on) to resume it, or add --fresh to start over with ${plural(rounds, "round")}`,
  );
}
