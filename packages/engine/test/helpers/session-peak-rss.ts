// Run in a fresh process by session-external-data.test.ts: opens the model file argv[2] with
// GraphSession (after a warm-up session, so ORT's own start-up is in the baseline), runs it once on
// x = 1 and prints how much the peak RSS (VmHWM) grew, in bytes, and y[0].
import { readFileSync } from "node:fs";
import { GraphSession } from "@sfprompt/engine";

function peak(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  if (m === null) throw new Error("no VmHWM in /proc/self/status");
  return Number(m[1]) * 1024;
}

const [path, warmup, widthArg] = process.argv.slice(2) as [string, string, string];
const width = Number(widthArg);
const x = { dtype: "float32" as const, dims: [1, width], data: new Float32Array(width).fill(1) };
const w = await GraphSession.create(warmup);
await w.run({ x });
await w.release();
const base = peak();
const s = await GraphSession.create(path);
const y = (await s.run({ x }))["y"]?.data as Float32Array;
console.log(JSON.stringify({ growth: peak() - base, y0: y[0] }));
await s.release();
