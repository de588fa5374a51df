// `sfprompt traffic [JOB.yaml]`: the bytes each method (SFPrompt, SFL + prompt, FL + prompt, FL full
// fine-tuning) sends for a job, per round and in total, computed by encoding the real frames.
import { CODECS, PartitioningSchema, type Codec } from "@sfprompt/api";
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";
import type { ParsedFlags } from "../flags.js";
import { planJobTraffic, type TrafficOverrides } from "../traffic/traffic-job.js";
import { trafficReport } from "../traffic/traffic-table.js";

/**
 * The most samples --samples-per-client gives every client: the limit of the job field it stands in
 * for, spec.data.partitioning.samplesPerClient (the flag sets no field, so the job's check misses it).
 */
export const SAMPLES_PER_CLIENT_MAX = PartitioningSchema.shape.samplesPerClient.unwrap().maxValue as number;

function whole(flags: ParsedFlags, name: string, min: number, max?: number): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  // digits only, as run's --rounds: Number() would also take "1e3" (1000 clients) and "0x10" (16)
  const v = /^\d+$/.test(String(raw)) ? Number(raw) : NaN;
  const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
  if (!Number.isSafeInteger(v) || v < min || (max !== undefined && v > max))
    throw new UsageError(`traffic: --${name} must be a whole number ${range} (got "${String(raw)}")`);
  return v;
}

function fraction(flags: ParsedFlags, name: string): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const v = /^(\d+\.?\d*|\.\d+)$/.test(String(raw)) ? Number(raw) : NaN;
  if (!(v >= 0 && v < 1))
    throw new UsageError(`traffic: --${name} must be a decimal number in [0, 1) (got "${String(raw)}")`);
  return v;
}

/**
 * --samples-per-client gives every client N samples whatever the job's data, so --cluster (how that
 * data is counted) would change nothing: refused together rather than one silently ignored.
 */
function checkExclusive(flags: ParsedFlags): void {
  if (flags["cluster"] !== true || flags["samples-per-client"] === undefined) return;
  throw new UsageError(
    "traffic: --cluster and --samples-per-client cannot be used together: --samples-per-client N gives " +
      "every client N samples whatever the job's data (on one machine or a cluster alike), --cluster " +
      "says how the job's own data is counted; pass one of them",
  );
}

function overrides(flags: ParsedFlags): TrafficOverrides {
  checkExclusive(flags);
  const entries: [keyof TrafficOverrides, unknown][] = [
    ["model", flags["model"]],
    ["headBlocks", whole(flags, "head-blocks", 0)],
    ["promptLength", whole(flags, "prompt-length", 0)],
    ["samplesPerClient", whole(flags, "samples-per-client", 1, SAMPLES_PER_CLIENT_MAX)],
    ["clients", whole(flags, "clients", 1)],
    ["rounds", whole(flags, "rounds", 1)],
    ["gamma", fraction(flags, "gamma")],
    ["batchSize", whole(flags, "batch-size", 1)],
    ["maxPayload", whole(flags, "max-payload", 1024)],
    ["activationCodec", flags["activation-codec"] as Codec | undefined],
    ["parameterCodec", flags["parameter-codec"] as Codec | undefined],
    ["placement", flags["cluster"] === true ? "cluster" : undefined],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as TrafficOverrides;
}

const codecChoices = [...CODECS];

export const trafficCommand: Command = {
  name: "traffic",
  summary: "compute the bytes SFPrompt and each baseline send for a job, per round and in total",
  usage:
    "traffic [JOB.yaml] [--model M.onnx] [--head-blocks K] [--prompt-length P] [--samples-per-client N] " +
    "[--clients N] [--rounds R] [--gamma G] [--batch-size B] [--max-payload BYTES] [--activation-codec C] " +
    "[--parameter-codec C] [--cluster] [--json]",
  positionals: [
    { name: "job", description: "an SFPromptJob manifest (default: the defaults with the demo model)" },
  ],
  flags: [
    { name: "model", placeholder: "M.onnx", description: "the ONNX model to plan for (default: the job's)" },
    { name: "head-blocks", placeholder: "K", description: "transformer blocks in the client's head" },
    { name: "prompt-length", placeholder: "P", description: "soft prompt tokens" },
    {
      name: "samples-per-client",
      placeholder: "N",
      description: `|D_k| of every client, at most ${SAMPLES_PER_CLIENT_MAX} as spec.data.partitioning.samplesPerClient (default: the job's data partition); not with --cluster`,
    },
    { name: "clients", placeholder: "N", description: "clients, all selected every round" },
    { name: "rounds", placeholder: "R", description: "rounds" },
    { name: "gamma", placeholder: "G", description: "fraction of each client's samples EL2N prunes" },
    { name: "batch-size", placeholder: "B", description: "mini-batch size" },
    { name: "max-payload", placeholder: "BYTES", description: "the NATS server's max_payload" },
    {
      name: "activation-codec",
      placeholder: "C",
      description: "codec of activations and gradients, both ways",
      choices: codecChoices,
    },
    {
      name: "parameter-codec",
      placeholder: "C",
      description: "codec of parameter uploads and downloads",
      choices: codecChoices,
    },
    {
      name: "cluster",
      boolean: true,
      description:
        "count own folder/JSONL data as a cluster reads it: each client its node's copy, like the one here (all of it when the strategy is unset); not with --samples-per-client",
    },
    { name: "json", boolean: true, description: "print the plan as JSON (every round, kind and direction)" },
  ],
  async run(flags, io) {
    const job = flags["job"] === undefined ? undefined : String(flags["job"]);
    const plan = await planJobTraffic(job, overrides(flags), (line) => io.err(line));
    if (flags["json"] === true) io.out(JSON.stringify(plan, null, 2));
    else io.out(trafficReport(plan.comparison, plan.model, plan.samples));
    return 0;
  },
};
