// In-process simulation of a federated job (all clients in one process, body run locally, no NATS):
// the same trainer, FedAvg and evaluation as `sfprompt run`, for sweeping settings quickly.
//   node --conditions=source --import tsx bench/tuning/simulate.ts JOB.yaml [--set a.b=v ...] [--methods sfprompt,sfl-prompt]
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadEvalData, loadTrainData } from "../../packages/cli/src/proc/job-data.js";
import { prepareRunBundle } from "../../packages/cli/src/run/bundle.js";
import {
  PartitionBundle,
  bundleFlops,
  clientShard,
  ensureDemoModel,
  evaluateSplit,
  evaluationSubset,
  fedAvg,
  joinParams,
  localBody,
  silentLogger,
  trainRound,
} from "@sfprompt/core";
import { loadJobManifest, toRunConfig, type Method } from "@sfprompt/api";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { set: { type: "string", multiple: true }, methods: { type: "string" } },
});
const job = structuredClone(
  loadJobManifest(readFileSync(positionals[0] ?? "examples/demo-job.yaml", "utf8")),
);
for (const kv of values.set ?? []) {
  const at = kv.indexOf("=");
  const keys = kv.slice(0, at).split(".");
  const raw = kv.slice(at + 1);
  let o: Record<string, unknown> = job.spec as unknown as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys.at(-1)!] = JSON.parse(raw);
}
const methods = (values.methods ?? "sfprompt,sfl-prompt").split(",") as Method[];
const model = await ensureDemoModel({});
const base = toRunConfig(loadJobManifest(JSON.stringify(job)));
const [train, test] = await Promise.all([loadTrainData(base), loadEvalData(base)]);
for (const method of methods) {
  const j = structuredClone(job);
  j.spec.method = method;
  // re-parsed so that the --set overrides are validated and defaulted like a manifest's own fields
  const c = toRunConfig(loadJobManifest(JSON.stringify(j)));
  const dir = mkdtempSync(join(tmpdir(), "sim-"));
  prepareRunBundle(c, model.path, dir, false);
  const bundle = PartitionBundle.load(dir, { logger: silentLogger });
  const flops = bundleFlops(bundle);
  const evalSet = evaluationSubset(test, c.training.evaluation.maxSamples, c.training.seed);
  const clients = Array.from({ length: c.clients.count }, (_, i) => ({
    bundle,
    config: c,
    clientIndex: i,
    data: clientShard(train, c.data.partitioning, c.clients.count, i),
    // The body runs here but stands for the server's: the trainer then sends (or skips) gradients as a client would.
    body: { ...localBody(bundle), local: false },
    flops,
    logger: silentLogger,
  }));
  const init = bundle.initialParams();
  let global = joinParams(init.prompt, init.tail);
  const accs: string[] = [];
  const t0 = Date.now();
  let kept = 0;
  for (let round = 1; round <= c.training.rounds; round++) {
    const ups = [];
    kept = 0;
    for (const ctx of clients) {
      const u = await trainRound(ctx, round, global);
      kept += u.kept;
      ups.push({ clientId: String(ctx.clientIndex), params: u.params, samples: u.samples });
    }
    global = fedAvg(ups, global);
    const ev = await evaluateSplit(bundle, global, evalSet, c.training.batchSize);
    accs.push((ev.accuracy * 100).toFixed(1));
  }
  console.log(
    `${method} ${JSON.stringify(values.set ?? [])} kept/round=${kept} ${((Date.now() - t0) / 1000).toFixed(0)}s acc: ${accs.join(" ")}`,
  );
}
