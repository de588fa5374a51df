// `sfprompt run` end to end: job file → run directory (resume or fresh) → model (demo pre-trained on
// first use) → bundle → nats-server → server + client processes per method → metrics, plots, trained
// model, summary, and with --compare the table of SFPrompt against every baseline.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Method, SFPromptJob } from "@sfprompt/api";
import { checkJobInputs, PartitionBundle } from "@sfprompt/core";
import { openArtifactStore, startLocalNats, type LocalNats } from "@sfprompt/protocol";
import { prepareRunBundle } from "./bundle.js";
import { JobRunError, NatsUrlError } from "./errors.js";
import { runCentralizedMethod } from "./centralized-run.js";
import { compareMarkdown, compareRows, compareVerdict, type MethodResult } from "./compare.js";
import { clientFlopsShare, wholeForwardFlops } from "./flops-share.js";
import { readJobFile, runConfigFor } from "./job-file.js";
import { totalBytes } from "./metrics.js";
import { runMethod } from "./method-run.js";
import { resolveModel } from "./model-source.js";
import { accuracyByBytesSvg, accuracySvg, trafficSvg } from "./plots.js";
import { methodsToRun } from "./compare-methods.js";
import { StatusLine } from "./progress-view.js";
import {
  checkRoundsNotBehind,
  checkRunDirOwner,
  openRunDir,
  RUN_FILES,
  runDirOf,
  type ResumeMode,
} from "./run-dir.js";
import { lockRunDir, recordNatsServer } from "./run-lock.js";
import { formatBytes } from "./svg-chart.js";
import { summaryMarkdown } from "./summary.js";
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
}

export interface LocalRunResult {
  readonly dir: string;
  readonly results: readonly MethodResult[];
}

/**
 * The run's NATS: the given URL, or a nats-server started here with the job's max_payload
 * (spec.transport.maxPayload), so a local run chunks its frames as the job on a cluster does and
 * `sfprompt traffic JOB` plans its bytes.
 */
async function openNats(
  o: LocalRunOptions,
  dir: string,
  maxPayload: number,
): Promise<{ url: string; local?: LocalNats }> {
  if (o.natsUrl !== undefined) return { url: o.natsUrl };
  const local = await startLocalNats({
    storeDir: join(dir, RUN_FILES.nats),
    logFile: join(dir, RUN_FILES.logs, "nats.log"),
    maxPayload,
    // a terminal's Ctrl-C must reach the server and clients, not the NATS they stop through; the
    // run stops it after them, and its watcher stops it should this process die first
    ownProcessGroup: true,
  });
  try {
    recordNatsServer(dir, local.pid);
  } catch (error) {
    await local.stop(); // its handle would keep this process alive after the error
    throw error;
  }
  return { url: local.url, local };
}

/** Whether the job already has a checkpoint on an external NATS server (--nats). */
async function externalCheckpoint(url: string, job: SFPromptJob): Promise<boolean> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: "sfprompt-run-probe" });
  } catch (cause) {
    throw new NatsUrlError(
      url,
      `cannot connect (${(cause as Error).message}); check the URL (nats://HOST:PORT) and that a nats-server with JetStream runs there, or leave --nats out to start one`,
      { cause },
    );
  }
  try {
    const store = await openArtifactStore(nc, runConfigFor(job, job.spec.method).names.job);
    return (await store.latestCheckpoint()) !== null;
  } catch (cause) {
    if ((cause as Error).name !== "JetStreamNotEnabled") throw cause;
    throw new NatsUrlError(
      url,
      "JetStream is not enabled on this server; start nats-server with -js (or a jetstream block in its config)",
      { cause },
    );
  } finally {
    await nc.drain().catch(() => undefined);
  }
}

/** Runs the job (and with --compare its baselines) and writes the run directory. */
export async function localRun(o: LocalRunOptions): Promise<LocalRunResult> {
  const started = Date.now();
  const job = readJobFile(o.jobFile, o.rounds === undefined ? {} : { rounds: o.rounds });
  const dir = runDirOf(job, o.out);
  const release = lockRunDir(dir);
  try {
    return await runInDir(o, job, dir, started);
  } finally {
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
  const external = o.natsUrl === undefined ? undefined : await externalCheckpoint(o.natsUrl, job);
  const { resumed } = openRunDir(dir, o.mode, job.spec.output.resume, external);
  const methods = methodsToRun(job.spec.method, o.compare, o.compareMethods);
  const methodDir = (m: Method): string => (m === job.spec.method ? dir : join(dir, RUN_FILES.methods, m));
  if (resumed) {
    const source = o.rounds === undefined ? "spec.training.rounds" : "--rounds";
    checkRoundsNotBehind(dir, methods.map(methodDir), job.spec.training.rounds, source);
  }
  o.status.line(
    `${resumed ? "resuming" : "starting"} ${job.metadata.name} in ${dir}${resumed ? " (--fresh starts clean)" : ""}`,
  );
  const primary = runConfigFor(job, job.spec.method);
  const model = await resolveModel(primary, o.jobFile, o.status, o.signal);
  const bundleDir = join(dir, RUN_FILES.bundle);
  prepareRunBundle(primary, model.path, bundleDir, resumed);
  checkJobInputs(primary, PartitionBundle.load(bundleDir));
  const nats = await openNats(o, dir, job.spec.transport.maxPayload);
  let nc: NatsConnection | undefined;
  const results: MethodResult[] = [];
  try {
    nc = await connect({ servers: nats.url, name: "sfprompt-run" });
    for (const method of methods) {
      // Ctrl-C while the model, the bundle or the previous method was being prepared or written
      if (o.signal.aborted) throw new JobRunError("the run was interrupted");
      const config = runConfigFor(job, method);
      const mdir = methodDir(method);
      const label = o.compare ? method : job.metadata.name;
      const r =
        method === "centralized"
          ? await runCentralizedMethod({
              config,
              bundleDir,
              dir: mdir,
              status: o.status,
              label,
              signal: o.signal,
              resumed,
            })
          : await runMethod({
              nc,
              natsUrl: nats.url,
              config,
              bundleDir,
              modelPath: model.path,
              dir: mdir,
              resumed,
              status: o.status,
              label,
              signal: o.signal,
            });
      const share = clientFlopsShare(config, wholeForwardFlops(bundleDir, config), r.history);
      results.push({
        method,
        metrics: r.metrics,
        seconds: r.seconds,
        ...(share === undefined ? {} : { clientFlopsShare: share }),
      });
      if (r.params !== undefined)
        writeTrainedModel(bundleDir, model.path, r.params, join(mdir, RUN_FILES.trained));
      const acc = r.metrics.final?.accuracy ?? 0;
      o.status.line(
        `${method}: accuracy ${(acc * 100).toFixed(2)} %, traffic ${formatBytes(totalBytes(r.metrics))}, ${Math.round(r.seconds)} s`,
      );
    }
  } finally {
    // interrupted: nothing to flush, and draining would wait on a nats-server that may be gone
    // (killed, or the --nats one) for as long as the client library retries
    await (o.signal.aborted ? nc?.close() : nc?.drain())?.catch(() => undefined);
    await nats.local?.stop();
  }
  writeOutputs({ o, dir, job, results, resumed, model, seconds: (Date.now() - started) / 1000 });
  return { dir, results };
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
      `traffic ${formatBytes(totalBytes(main.metrics))} over ${plural(main.metrics.rounds.length, "round")}, ` +
      `${Math.round(x.seconds)} s; results in ${x.dir}/`,
  );
}
