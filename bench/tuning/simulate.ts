// In-process simulation of a federated job (all clients in one process, body run locally, no NATS):
// the same trainer, FedAvg and evaluation as `sfprompt run`, for sweeping settings quickly.
//   node --conditions=source --import tsx bench/tuning/simulate.ts JOB.yaml [--set a.b=v ...] [--methods sfprompt,sfl-prompt]
//     [--recipe architecture.width=96 ...] (demo model recipe overrides) [--classes 5,6,7,8,9] (keep these classes)
//     [--server-momentum 0.9] [--server-lr 1] (FedAvgM instead of FedAvg)
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadEvalData, loadTrainData } from "../../packages/cli/src/proc/job-data.js";
import { prepareRunBundle } from "../../packages/cli/src/run/bundle.js";
import {
  DEMO_RECIPE,
  PartitionBundle,
  bundleFlops,
  clientShard,
  ensureDemoModel,
  ensureMinilmModel,
  evaluateSplit,
  evaluationSubset,
  fedAvg,
  joinParams,
  localBody,
  silentLogger,
  trainRound,
  textBundleConfig,
} from "@sfprompt/core";
import { loadJobManifest, toRunConfig, type Method } from "@sfprompt/api";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    set: { type: "string", multiple: true },
    recipe: { type: "string", multiple: true },
    methods: { type: "string" },
    classes: { type: "string" },
    "server-momentum": { type: "string" },
    "server-lr": { type: "string" },
  },
});
const job = structuredClone(
  loadJobManifest(readFileSync(positionals[0] ?? "examples/demo-job.yaml", "utf8")),
);
/** Applies `a.b.c=JSON` to `target` (the path split at the first '='), creating objects on the way. */
function setPath(target: Record<string, unknown>, kv: string): void {
  const at = kv.indexOf("=");
  const keys = kv.slice(0, at).split(".");
  let o = target;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys.at(-1)!] = JSON.parse(kv.slice(at + 1));
}
for (const kv of values.set ?? []) setPath(job.spec as unknown as Record<string, unknown>, kv);
const methods = (values.methods ?? "sfprompt,sfl-prompt").split(",") as Method[];
// --recipe a.b=v overrides the demo model's recipe (architecture.width=96, pretraining.epochs=4, ...)
const recipe = structuredClone(DEMO_RECIPE) as unknown as Record<string, unknown>;
for (const kv of values.recipe ?? []) setPath(recipe, kv);
const model =
  job.spec.model?.source?.builtin === "minilm"
    ? await ensureMinilmModel({ numClasses: job.spec.classes?.numClasses ?? 10 })
    : await ensureDemoModel({
        recipe: recipe as unknown as typeof DEMO_RECIPE,
        onBuildStart: (dir) => console.error(`pre-training ${dir}`),
      });
console.error(
  "testAccuracy" in model.card
    ? `model ${model.path}: ${(model.card.testAccuracy * 100).toFixed(1)} % in ${model.card.seconds.toFixed(0)} s`
    : `model ${model.path}`,
);
const base = toRunConfig(loadJobManifest(JSON.stringify(job)));
const [allTrain, allTest] = await Promise.all([loadTrainData(base), loadEvalData(base)]);
// --classes 5,6,7,8,9 keeps those classes only, renumbered 0.. (set data/classes.numClasses to match)
const keep = values.classes?.split(",").map(Number);
function onlyClasses<D extends typeof allTrain>(ds: D): D {
  if (keep === undefined) return ds;
  const idx: number[] = [];
  for (let i = 0; i < ds.labels.length; i++) if (keep.includes(ds.labels[i] as number)) idx.push(i);
  const rows = Int32Array.from(idx, (i) => (ds.rows ? (ds.rows[i] as number) : i));
  const labels = Int32Array.from(idx, (i) => keep.indexOf(ds.labels[i] as number));
  return { ...ds, rows, labels, classNames: keep.map((c) => ds.classNames[c] ?? String(c)) };
}
const [train, test] = [onlyClasses(allTrain), onlyClasses(allTest)];
for (const method of methods) {
  const j = structuredClone(job);
  j.spec.method = method;
  // re-parsed so that the --set overrides are validated and defaulted like a manifest's own fields
  const c = toRunConfig(loadJobManifest(JSON.stringify(j)));
  const dir = mkdtempSync(join(tmpdir(), "sim-"));
  prepareRunBundle(c, model.path, dir, false);
  const bundle = PartitionBundle.load(dir, { ...textBundleConfig(c), logger: silentLogger });
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
  const velocity = new Map<string, Float32Array>();
  for (let round = 1; round <= c.training.rounds; round++) {
    const ups = [];
    kept = 0;
    for (const ctx of clients) {
      const u = await trainRound(ctx, round, global);
      kept += u.kept;
      ups.push({ clientId: String(ctx.clientIndex), params: u.params, samples: u.samples });
    }
    const avg = fedAvg(ups, global);
    // --server-momentum β / --server-lr η: FedAvgM (Hsu et al. 2019), v = β·v + (avg − global); global += η·v
    const beta = Number(values["server-momentum"] ?? 0);
    const eta = Number(values["server-lr"] ?? 1);
    if (beta > 0 || eta !== 1) {
      const next = new Map(global);
      for (const [name, p] of global) {
        const a = avg.get(name)!.data;
        let v = velocity.get(name);
        if (v === undefined) velocity.set(name, (v = new Float32Array(p.data.length)));
        const out = new Float32Array(p.data.length);
        for (let i = 0; i < out.length; i++) {
          v[i] = beta * v[i]! + (a[i]! - p.data[i]!);
          out[i] = p.data[i]! + eta * v[i]!;
        }
        next.set(name, { ...p, data: out });
      }
      global = next;
    } else global = avg;
    const ev = await evaluateSplit(bundle, global, evalSet, c.training.batchSize);
    accs.push((ev.accuracy * 100).toFixed(1));
  }
  console.log(
    `${method} ${JSON.stringify([...(values.recipe ?? []), ...(values.set ?? [])])} kept/round=${kept} ${((Date.now() - t0) / 1000).toFixed(0)}s acc: ${accs.join(" ")}`,
  );
}
