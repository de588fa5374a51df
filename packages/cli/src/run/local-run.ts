// `sfprompt run` end to end: job file → run directory (resume or fresh) → model (demo pre-trained on
// first use) → bundle → nats-server → server + client processes per method → metrics, plots, trained
// model, summary, and with --compare the table of SFPrompt against every baseline.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Method, RunConfig, SFPromptJob } from "@sfprompt/api";
import { checkJobInputs, PartitionBundle } from "@sfprompt/core";
import { prepareRunBundle } from "./bundle.js";
import { JobRunError } from "./errors.js";
import { runCentralizedMethod } from "./centralized-run.js";
import { clusterOnlyLine } from "./cluster-only.js";
import { compareMarkdown, compareRows, compareVerdict, type MethodResult } from "./compare.js";
import { clientFlopsShare, wholeForwardFlops } from "./flops-share.js";
import { checkJob, evalIsTrainingDataWarning, problemsError } from "./job-checks.js";
import { runConfigFor } from "./job-file.js";
import { runMethod, type MethodRunResult } from "./method-run.js";
import { resolveModel } from "./model-source.js";
import { accuracyByBytesSvg, accuracySvg, trafficSvg } from "./plots.js";
import { methodsToRun } from "./compare-methods.js";
import { StatusLine } from "./progress-view.js";
import {
  checkRoundsNotBehind,
  checkRunDirOwner,
  methodDirOf,
  openRunDir,
  RUN_FILES,
  runDirOf,
  type ResumeMode,
} from "./run-dir.js";
import { removeLoneMark } from "./run-folder.js";
import { lockRunDir } from "./run-lock.js";
import { recordedResult } from "./recorded-result.js";
import { externalCheckpoints, RunNats } from "./run-nats.js";
import { summaryMarkdown, trafficLine } from "./summary.js";
import { writeTrainedModel } from "./trained-model.js";
import { plural } from "../plural.js";

export interface LocalRunOptions {
  readonly jobFile: string;
  readonly natsUrl?: string;
  readonly out?: string;
  readonly compare: boolean;
  /** With compare: only these baselines (default: every one). */
  readonly compareMethods?: readonly Method[];
  readonly mode: ResumeMode;
  readonly rounds?: number;
  readonly signal: AbortSignal;
  /** Where results go (stdout); progress goes to `status` (stderr). */
  readonly print: (line: string) => void;
  readonly status: StatusLine;
  /**
   * Called once the last method's training has ended (its job finished, or its result was recorded
   * earlier), before its results are read and written: a stop from then on interrupts nothing.
   */
  readonly onTrained?: () => void;
}

export interface LocalRunResult {
  readonly dir: string;
  readonly results: readonly MethodResult[];
}

/** Runs the job (and with --compare its baselines) and writes the run directory. */
export async function localRun(o: LocalRunOptions): Promise<LocalRunResult> {
  const started = Date.now();
  // every check before anything starts (sfprompt validate makes the same ones)
  const check = await checkJob(o);
  const { job } = check;
  const refused = problemsError(o.jobFile, check.problems);
  if (refused !== undefined) throw refused;
  const dir = runDirOf(job, o.out);
  const release = lockRunDir(dir);
  try {
    return await runInDir(o, job, dir, started);
  } finally {
    // a start that wrote nothing leaves the folder as it found it (or, made, for the release to remove)
    removeLoneMark(dir);
    release();
  }
}

async function runInDir(
  o: LocalRunOptions,
  job: SFPromptJob,
  dir: string,
  started: number,
): Promise<LocalRunResult> {
  checkRunDirOwner(dir, o.mode, job.metadata.name, job.spec.method);
  const external = o.natsUrl === undefined ? undefined : await externalCheckpoints(o.natsUrl, job);
  const { resumed } = openRunDir(dir, o.mode, job.spec.output.resume, external);
  const methods = methodsToRun(job.spec.method, o.compare, o.compareMethods);
  const methodDir = (m: Method): string => methodDirOf(dir, job.spec.method, m);
  const roundsSource = o.rounds === undefined ? "spec.training.rounds" : "--rounds";
  if (resumed) checkRoundsNotBehind(dir, methods.map(methodDir), job.spec.training.rounds, roundsSource);
  // whether the store holds a checkpoint is told per method once NATS runs (method-run.ts)
  const store = o.natsUrl === undefined ? "the earlier session's store" : `the job's store on ${o.natsUrl}`;
  o.status.line(
    resumed
      ? `going on with ${job.metadata.name} in ${dir} from ${store} (--fresh starts clean)`
      : `starting ${job.metadata.name} in ${dir}`,
  );
  const clusterOnly = clusterOnlyLine(job);
  if (clusterOnly !== undefined) o.status.line(clusterOnly);
  const primary = runConfigFor(job, job.spec.method);
  const evalWarning = await evalIsTrainingDataWarning(primary);
  if (evalWarning !== undefined) o.status.line(evalWarning);
  const model = await resolveModel(primary, o.jobFile, o.status, o.signal);
  const bundleDir = join(dir, RUN_FILES.bundle);
  // the checks read the model's outline only (model-check.ts): the split reads the weights, and a
  // resumed run that keeps its bundle never does
  prepareRunBundle(primary, model.path, bundleDir, resumed, o.jobFile);
  checkJobInputs(primary, PartitionBundle.load(bundleDir));
  const nats = new RunNats({
    ...(o.natsUrl === undefined ? {} : { url: o.natsUrl }),
    dir,
    maxPayload: job.spec.transport.maxPayload,
  });
  const results: MethodResult[] = [];
  try {
    for (const method of methods) {
      // Ctrl-C while the model, the bundle or the previous method was being prepared or written
      if (o.signal.aborted) throw new JobRunError("the run was interrupted");
      const config = runConfigFor(job, method);
      const mdir = methodDir(method);
      const label = o.compare ? method : job.metadata.name;
      const onFinished = method === methods.at(-1) ? o.onTrained : undefined;
      const earlier = resumed ? recordedResult(mdir, config) : undefined;
      if (earlier !== undefined)
        o.status.line(
          `${label}: finished its ${plural(config.training.rounds, "round")} in an earlier session with this spec; reusing the result (no process started; --rounds N trains on, --fresh starts over)`,
        );
      const r =
        earlier ??
        (method === "centralized"
          ? await runCentralizedMethod({
              config,
              bundleDir,
              modelPath: model.path,
              dir: mdir,
              status: o.status,
              label,
              signal: o.signal,
            })
          : await runMethod({
              ...(await nats.open()),
              config,
              bundleDir,
              modelPath: model.path,
              dir: mdir,
              resumed,
              runDir: dir,
              roundsSource,
              // --resume without a checkpoint of the job's own went on only with a source one
              // (resumeFrom, openRunDir): that session is not resumed, and the server reads the source
              requireCheckpoint: resumed && o.mode === "resume" && method === job.spec.method,
              // read once, before the run dir was opened (a baseline's config has no resumeFrom)
              ...(external?.resumeFrom === undefined || method !== job.spec.method
                ? {}
                : { resumeFrom: external.resumeFrom }),
              status: o.status,
              label,
              signal: o.signal,
              ...(onFinished === undefined ? {} : { onFinished }),
            }));
      onFinished?.();
      results.push(resultOf(method, config, { bundleDir, modelPath: model.path }, r));
      if (r.params !== undefined)
        writeTrainedModel(bundleDir, model.path, r.params, join(mdir, RUN_FILES.trained));
      const acc = r.metrics.final?.accuracy ?? 0;
      o.status.line(
        `${method}: accuracy ${(acc * 100).toFixed(2)} %, traffic ${trafficLine(r.metrics)}, ${Math.round(r.seconds)} s`,
      );
    }
  } finally {
    await nats.close(o.signal.aborted);
  }
  writeOutputs({ o, dir, job, results, resumed, model, seconds: (Date.now() - started) / 1000 });
  return { dir, results };
}

/** The method's result with its client FLOPs share, read from the run's bundle (split from `modelPath`). */
function resultOf(
  method: Method,
  config: RunConfig,
  split: { readonly bundleDir: string; readonly modelPath: string },
  r: MethodRunResult,
): MethodResult {
  const share = clientFlopsShare(
    config,
    wholeForwardFlops(split.bundleDir, config, split.modelPath),
    r.history,
    r.metrics.resumedFrom,
  );
  return {
    method,
    metrics: r.metrics,
    seconds: r.seconds,
    ...(share === undefined ? {} : { clientFlopsShare: share }),
  };
}

interface Outputs {
  readonly o: LocalRunOptions;
  readonly dir: string;
  readonly job: SFPromptJob;
  readonly results: readonly MethodResult[];
  readonly resumed: boolean;
  readonly model: Awaited<ReturnType<typeof resolveModel>>;
  readonly seconds: number;
}

function writeOutputs(x: Outputs): void {
  const main = x.results[0] as MethodResult;
  const rows = x.o.compare ? compareRows(x.results) : undefined;
  if (rows !== undefined) {
    const table = compareMarkdown(rows);
    writeFileSync(
      join(x.dir, RUN_FILES.compare),
      `${table}\n${compareVerdict(rows)
        .map((v) => `- ${v}`)
        .join("\n")}\n`,
    );
    writeFileSync(join(x.dir, RUN_FILES.compareJson), `${JSON.stringify(rows, null, 2)}\n`);
    const all = x.results.map((r) => r.metrics);
    writeFileSync(join(x.dir, RUN_FILES.compareAccuracy), accuracySvg(all));
    writeFileSync(join(x.dir, RUN_FILES.compareTraffic), trafficSvg(all));
    writeFileSync(join(x.dir, RUN_FILES.compareAccuracyByBytes), accuracyByBytesSvg(all));
    x.o.print("");
    x.o.print(table.trimEnd());
    for (const v of compareVerdict(rows)) x.o.print(`- ${v}`);
  }
  const summary = summaryMarkdown({
    config: runConfigFor(x.job, x.job.spec.method),
    metrics: main.metrics,
    modelPath: x.model.path,
    ...(x.model.card ? { card: x.model.card } : {}),
    resumed: x.resumed,
    seconds: x.seconds,
    ...(rows ? { compare: rows } : {}),
  });
  writeFileSync(join(x.dir, RUN_FILES.summary), summary);
  const acc = main.metrics.final?.accuracy ?? main.metrics.rounds.at(-1)?.accuracy ?? 0;
  x.o.print("");
  x.o.print(
    `${x.job.metadata.name} (${main.method}): final accuracy ${(acc * 100).toFixed(2)} %, ` +
      `traffic ${trafficLine(main.metrics)}, ` +
      `${Math.round(x.seconds)} s${x.resumed ? " this session" : ""}; results in ${x.dir}/`,
  );
}
