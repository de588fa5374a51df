// What `sfprompt validate` says a run of a checked job would do: its methods, clients, rounds, data
// and split, model and run directory, as lines and as JSON (--json). Pure: the checks read the files.
import type { Method, SFPromptJob } from "@sfprompt/api";
import type { TrainingSplit } from "@sfprompt/core";
import { plural } from "../plural.js";
import type { ModelPlan } from "./model-source.js";

export interface JobPlan {
  readonly ok: boolean;
  readonly file: string;
  readonly job?: string;
  readonly method?: Method;
  readonly methods?: readonly Method[];
  readonly clients?: number;
  readonly rounds?: number;
  readonly data?: {
    readonly source: string;
    readonly samples?: number;
    readonly partitioning?: string;
    /** spec.data.partitioning.samplesPerClient: the most each client keeps of its share. */
    readonly samplesPerClient?: number;
    readonly perClient?: readonly number[];
  };
  readonly evaluation?: string;
  readonly model?: Omit<ModelPlan, "line">;
  readonly runDir?: string;
  /** What sfprompt run would do in it: new, start clean, go on from its checkpoint. */
  readonly runDirUse?: string;
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
  readonly problems: readonly string[];
}

export interface PlanInputs {
  readonly file: string;
  readonly job: SFPromptJob;
  readonly methods: readonly Method[];
  readonly split?: TrainingSplit;
  readonly model?: ModelPlan;
  readonly runDir: string;
  readonly runDirUse: string;
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
  readonly problems: readonly string[];
}

type Source = SFPromptJob["spec"]["data"]["source"];

function sourceName(s: Source): string {
  if (s.builtin !== undefined) return `builtin ${s.builtin}`;
  if (s.jsonl !== undefined) return `JSONL file ${s.jsonl.path}`;
  if (s.imageFolder !== undefined) return `image folder ${s.imageFolder.path}`;
  return "none";
}

/** "iid" / "dirichlet (alpha 0.5)" / "none (every client takes all of it)". */
function partitioningName(job: SFPromptJob): string {
  const p = job.spec.data.partitioning;
  const strategy = p.strategy ?? "iid";
  if (strategy === "dirichlet") return `dirichlet (alpha ${p.alpha})`;
  if (strategy === "none") return "none (every client takes all of it)";
  return `iid${p.strategy === undefined ? " (spec.data.partitioning.strategy unset)" : ""}`;
}

function evaluationName(job: SFPromptJob): string {
  const { everyRounds } = job.spec.training.evaluation;
  if (everyRounds <= 0) return "off (spec.training.evaluation.everyRounds: 0)";
  const on = job.spec.data.evalSource;
  const set = on === undefined ? `the test split of ${sourceName(job.spec.data.source)}` : sourceName(on);
  return `every ${everyRounds === 1 ? "round" : plural(everyRounds, "round")} on ${set}`;
}

/** The plan of a job that was read (its checks may have found problems). */
export function jobPlan(x: PlanInputs): JobPlan {
  const { job, split } = x;
  const federated = x.methods.some((m) => m !== "centralized");
  const cap = job.spec.data.partitioning.samplesPerClient;
  return {
    ok: x.problems.length === 0,
    file: x.file,
    job: job.metadata.name,
    method: job.spec.method,
    methods: x.methods,
    clients: job.spec.clients.count,
    rounds: job.spec.training.rounds,
    data: {
      source: sourceName(job.spec.data.source),
      ...(split?.samples === undefined ? {} : { samples: split.samples }),
      ...(federated ? { partitioning: partitioningName(job) } : {}),
      ...(federated && cap !== undefined ? { samplesPerClient: cap } : {}),
      ...(split?.perClient === undefined ? {} : { perClient: split.perClient }),
    },
    evaluation: evaluationName(job),
    ...(x.model === undefined
      ? {}
      : { model: { source: x.model.source, path: x.model.path, ...cachedOf(x.model) } }),
    runDir: x.runDir,
    runDirUse: x.runDirUse,
    notes: x.notes,
    warnings: x.warnings,
    problems: x.problems,
  };
}

function cachedOf(m: ModelPlan): { cached?: boolean } {
  return m.cached === undefined ? {} : { cached: m.cached };
}

/** "32, 32" for up to 10 clients; "from 12 to 40 samples each" for more. */
function perClientLine(counts: readonly number[]): string {
  if (counts.length <= 10) return `${counts.join(", ")} samples`;
  return `from ${Math.min(...counts)} to ${Math.max(...counts)} samples each`;
}

function dataLine(plan: JobPlan, methods: readonly Method[]): string {
  const d = plan.data;
  if (d === undefined) return "";
  const count =
    d.samples === undefined
      ? " (not read here: the processes that read it say why it cannot be)"
      : `: ${plural(d.samples, "training sample")}`;
  const split =
    d.perClient !== undefined
      ? `; split ${d.partitioning ?? "iid"} among the ${plural(d.perClient.length, "client")}` +
        `${d.samplesPerClient === undefined ? "" : `, at most ${d.samplesPerClient} each`}: ${perClientLine(d.perClient)}`
      : methods.every((m) => m === "centralized")
        ? "; not split (centralized: one process trains on all of it)"
        : "";
  return `${d.source}${count}${split}`;
}

/** The plan as the lines `sfprompt validate` prints (the problems are said on stderr). */
export function planLines(plan: JobPlan, model?: ModelPlan): string[] {
  const methods = plan.methods ?? [];
  const compared = methods.length > 1 ? ` (with --compare: ${methods.join(", ")})` : "";
  return [
    `${plan.file}: SFPromptJob ${plan.job ?? "?"} passes sfprompt run's checks (nothing was started)`,
    `  method: ${plan.method ?? "?"}${compared}`,
    `  clients: ${plan.clients ?? "?"}`,
    `  rounds: ${plan.rounds ?? "?"}`,
    `  data: ${dataLine(plan, methods)}`,
    `  evaluation: ${plan.evaluation ?? "?"}`,
    ...(model === undefined ? [] : [`  model: ${model.line}`]),
    `  run directory: ${plan.runDir ?? "?"} (${plan.runDirUse ?? "?"})`,
    ...plan.notes.map((n) => `  note: ${n}`),
    ...plan.warnings,
  ];
}
