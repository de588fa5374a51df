// One measurement in a fresh process: opens a model file one way, runs it once, and prints a JSON line
// with the outcome, the time and the process's peak RSS (VmHWM). Called by bench/big-model/run.ts.
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import * as ort from "onnxruntime-node";
import { encodeModel, GraphSession, readModel, splitOverridableInitializers } from "@sfprompt/engine";
import { SessionPool } from "@sfprompt/core";

const [mode, path, widthArg] = process.argv.slice(2) as [string, string, string];
const width = Number(widthArg);

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

const x = { dtype: "float32" as const, dims: [1, width], data: new Float32Array(width).fill(1) };

async function open(): Promise<number> {
  if (mode === "inline") {
    // what GraphSession.create did before: the whole model read into the IR and encoded inline
    const split = splitOverridableInitializers(readModel(path));
    const s = await ort.InferenceSession.create(encodeModel(split.model), { logSeverityLevel: 3 });
    const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor("float32", x.data, x.dims) };
    for (const [k, t] of Object.entries(split.defaults))
      feeds[k] = new ort.Tensor("float32", t.data as Float32Array, [...t.dims]);
    const y = (await s.run(feeds))["y"]?.data as Float32Array;
    await s.release();
    return y[0] as number;
  }
  if (mode === "file-bytes") {
    // what GraphSession.create(path) did before ADR 0006 amendment 9 for a model without trainable
    // inputs: readModelForSession returned the file's own bytes, read whole
    const folder = { session: { model_external_initializers_file_folder_path: dirname(path) } };
    const s = await ort.InferenceSession.create(readFileSync(path), { logSeverityLevel: 3, extra: folder });
    const y = (await s.run({ x: new ort.Tensor("float32", x.data, x.dims) }))["y"]?.data as Float32Array;
    await s.release();
    return y[0] as number;
  }
  if (mode === "graph-session") {
    const s = await GraphSession.create(path);
    const y = (await s.run({ x }))["y"]?.data as Float32Array;
    await s.release();
    return y[0] as number;
  }
  if (mode === "pool") {
    // the server's body session: a SessionPool over the bundle folder
    const pool = new SessionPool(dirname(path));
    const y = (await pool.run(basename(path), { x }))["y"]?.data as Float32Array;
    await pool.release();
    return y[0] as number;
  }
  throw new Error(`unknown mode ${mode}`);
}

const t0 = performance.now();
try {
  const y0 = await open();
  console.log(
    JSON.stringify({ ok: true, y0, ms: Math.round(performance.now() - t0), peakRssMiB: peakRssMiB() }),
  );
} catch (e) {
  const error = (e as Error).message.split("\n")[0]?.slice(0, 400);
  console.log(
    JSON.stringify({ ok: false, error, ms: Math.round(performance.now() - t0), peakRssMiB: peakRssMiB() }),
  );
}
