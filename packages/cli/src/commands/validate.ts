// `sfprompt validate JOB.yaml`: the checks `sfprompt run` makes before it starts anything, alone (a
// dry run): a short plan and exit 0, or every problem found and exit 1. Starts, builds and fetches
// nothing; writes no run folder.
import type { CliIO, Command } from "../command.js";
import type { ParsedFlags } from "../flags.js";
import { clusterOnlyLine } from "../run/cluster-only.js";
import { parseMethodsFlag } from "../run/compare-methods.js";
import { JobFileError } from "../run/errors.js";
import { checkJob, evalIsTrainingDataWarning, problemsError } from "../run/job-checks.js";
import { runConfigFor } from "../run/job-file.js";
import { jobPlan, planLines, type JobPlan } from "../run/job-plan.js";
import { modelPlan } from "../run/model-source.js";
import { runDirOf } from "../run/run-dir.js";
import { runDirPlan } from "../run/run-dir-plan.js";
import { modeOf, roundsFlag } from "../run/run-flags.js";

export const validateCommand: Command = {
  name: "validate",
  summary:
    "check an SFPromptJob manifest as sfprompt run would, starting nothing, and print what a run would do",
  usage:
    "validate JOB.yaml [--json] [--out DIR] [--nats URL] [--compare [--methods LIST]] [--resume|--fresh] [--rounds N]",
  positionals: [
    {
      name: "job",
      description: "the SFPromptJob manifest sfprompt run would take (e.g. examples/demo-job.yaml)",
      required: true,
    },
  ],
  flags: [
    { name: "json", boolean: true, description: "print the plan (or the problems) as one JSON object" },
    { name: "out", placeholder: "DIR", description: "the run directory sfprompt run would be given" },
    {
      name: "nats",
      placeholder: "URL",
      description:
        "the NATS server sfprompt run would be given (not contacted: spec.output.resumeFrom needs one)",
    },
    { name: "compare", boolean: true, description: "check the job as sfprompt run --compare would run it" },
    {
      name: "methods",
      placeholder: "LIST",
      description:
        "with --compare (which it implies): the methods besides the job's own, as sfprompt run takes them",
    },
    {
      name: "resume",
      boolean: true,
      description:
        "check the run directory as sfprompt run --resume would use it (a checkpoint to go on from)",
    },
    {
      name: "fresh",
      boolean: true,
      description: "check the run directory as sfprompt run --fresh would use it (its earlier run replaced)",
    },
    { name: "rounds", placeholder: "N", description: "check with N rounds instead of spec.training.rounds" },
  ],
  notes: [
    "Makes every check sfprompt run makes before it starts anything: the job's fields, the model source,",
    "the data's paths, kind and split among the clients (read here, labels only), the run directory (a",
    "run holding it now, an earlier run of another job, a folder of your files, one this user cannot",
    "make or write, --resume without a checkpoint, fewer rounds than it trained; with --nats the server's",
    "store is not asked). Starts no nats-server, makes no run folder, pre-trains or downloads no model:",
    "the plan says what a run would build or fetch (a cache folder it could not write is a problem, and",
    "so is no Fashion-MNIST, or a file of it whose IDX header or length is wrong, for builtin: demo",
    "not cached, which the run would pre-train on).",
    "The model file's structure is read, not its weights (a built-in one once cached): that it is ONNX,",
    "its inputs against spec.model.tokenizer, JSONL samples against its input's shape, and that it",
    "splits as spec.model.split asks, with the split's gradient graphs built on it (an op the engine",
    "cannot differentiate on the gradient path, a tensor whose rank it cannot infer or a grad_<name> the",
    "model already has is a problem; docs/gradients.md).",
    "exit codes: 0 the job passes (the plan on stdout); 1 problems (each on stderr, and in the JSON); 2 usage.",
  ],
  run: (flags, io) => validateJob(flags, io, "validate"),
};

/**
 * validate's checks and plan; `command` is the command the user typed (validate, or run with
 * --dry-run), named in a bad flag's usage error.
 */
export async function validateJob(
  flags: ParsedFlags,
  io: CliIO,
  command: "validate" | "run",
): Promise<number> {
  const rounds = roundsFlag(flags["rounds"], command);
  const mode = modeOf(flags["resume"] === true, flags["fresh"] === true, command);
  const only = parseMethodsFlag(flags["methods"], command);
  const file = String(flags["job"]);
  const json = flags["json"] === true;
  const natsUrl = flags["nats"] === undefined ? undefined : String(flags["nats"]);
  let check: Awaited<ReturnType<typeof checkJob>>;
  try {
    check = await checkJob({
      jobFile: file,
      compare: flags["compare"] === true || only !== undefined,
      ...(only === undefined ? {} : { compareMethods: only }),
      ...(natsUrl === undefined ? {} : { natsUrl }),
      ...(rounds === undefined ? {} : { rounds }),
    });
  } catch (e) {
    // the file cannot be read, is no YAML or fails the schema: nothing else can be checked
    if (json && e instanceof JobFileError) io.out(JSON.stringify(unread(file, e), null, 2));
    throw e;
  }
  const { job, methods, split } = check;
  const primary = runConfigFor(job, job.spec.method);
  const model = check.modelFound ? modelPlan(primary) : undefined;
  const runDir = runDirOf(job, flags["out"] === undefined ? undefined : String(flags["out"]));
  const dirPlan = runDirPlan({
    dir: runDir,
    job,
    methods,
    mode,
    ...(natsUrl === undefined ? {} : { natsUrl }),
    roundsSource: rounds === undefined ? "spec.training.rounds" : "--rounds",
  });
  // the run directory's refusal, under the job file's name as the other problems are
  const problems = [
    ...check.problems,
    ...(dirPlan.problem === undefined
      ? []
      : [new JobFileError(file, dirPlan.problem.message, { cause: dirPlan.problem })]),
  ];
  const warning = await evalIsTrainingDataWarning(primary);
  const cluster = clusterOnlyLine(job);
  const plan = jobPlan({
    file,
    job,
    methods,
    ...(split === undefined ? {} : { split }),
    ...(model === undefined ? {} : { model }),
    runDir,
    runDirUse: dirPlan.what,
    notes: cluster === undefined ? [] : [cluster],
    warnings: warning === undefined ? [] : [warning],
    problems: problems.map((p) => p.detail),
  });
  if (json) io.out(JSON.stringify(plan, null, 2));
  const refused = problemsError(file, problems);
  if (refused !== undefined) throw refused;
  if (!json) for (const line of planLines(plan, model)) io.out(line);
  return 0;
}

function unread(file: string, e: JobFileError): JobPlan {
  return { ok: false, file, notes: [], warnings: [], problems: [e.detail] };
}
