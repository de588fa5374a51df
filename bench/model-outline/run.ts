// Reading a model's structure without its weights (readModelOutline, ADR 0006 amendment 8): peak RSS
// and time of externalDataFiles, of the graph read and of perSampleFlops, before (the whole file read
// and decoded) and after, each in a fresh process (measure.ts), on the cached MiniLM model and on an
// inline model of ~1 GiB built here (y = x W_1 … W_4, f32 8192×8192 weights, written by writeModel
// with every tensor inline; removed afterwards).
//   node --conditions=source --import tsx bench/model-outline/run.ts --minilm PATH [--out bench/results/model-outline.md]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { writeModel, type Model, type Tensor } from "@sfprompt/engine";

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const out = flag("--out", "bench/results/model-outline.md");
const minilm = flag("--minilm", "");
const width = Number(flag("--width", "8192"));
const layers = Number(flag("--layers", "4"));
const modes = ["files-before", "files-after", "read-before", "outline-after", "flops-before", "flops-after"];

function chain(): Model {
  const initializers = new Map<string, Tensor>();
  const nodes: Model["graph"]["nodes"] = [];
  for (let l = 1; l <= layers; l++) {
    const w = new Float32Array(width * width);
    for (let i = 0; i < w.length; i += 4099) w[i] = (l + (i % 7)) / width;
    initializers.set(`w${l}`, { dtype: "float32", dims: [width, width], data: w });
    nodes.push({
      name: `mm${l}`,
      opType: "MatMul",
      domain: "",
      inputs: [l === 1 ? "x" : `h${l - 1}`, `w${l}`],
      outputs: [l === layers ? "y" : `h${l}`],
      attrs: {},
    });
  }
  return {
    irVersion: 8,
    opsetImports: [{ domain: "", version: 17 }],
    graph: {
      name: "chain",
      nodes,
      inputs: [{ name: "x", dtype: "float32", shape: ["batch", width] }],
      outputs: [{ name: "y", dtype: "float32", shape: ["batch", width] }],
      initializers,
      valueInfo: [],
    },
    extra: {},
  };
}

const dir = mkdtempSync(join(tmpdir(), "model-outline-bench-"));
const inline = join(dir, "inline.onnx");
const models: Array<{ name: string; path: string; bindings: string }> = [];
if (minilm !== "")
  models.push({ name: "MiniLM (cached built-in)", path: minilm, bindings: '{"sequence":128}' });
const rows: string[] = [];
try {
  writeModel(inline, chain());
  models.push({ name: `inline chain ${layers} × ${width}²`, path: inline, bindings: "{}" });
  for (const m of models) {
    const size = (statSync(m.path).size / 2 ** 20).toFixed(0);
    for (const mode of modes) {
      const line = execFileSync(
        process.execPath,
        [
          "--conditions=source",
          "--import",
          "tsx",
          "bench/model-outline/measure.ts",
          mode,
          m.path,
          m.bindings,
        ],
        { encoding: "utf8", maxBuffer: 1 << 24 },
      ).trim();
      const r = JSON.parse(line.split("\n").at(-1)!) as {
        ok: boolean;
        result?: unknown;
        error?: string;
        ms: number;
        peakRssMiB: number;
      };
      const what = r.ok ? JSON.stringify(r.result) : `**failed**: ${r.error}`;
      rows.push(`| ${m.name} | ${size} MiB | ${mode} | ${what} | ${r.ms} | ${r.peakRssMiB} |`);
      console.log(rows.at(-1));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
writeFileSync(
  out,
  `# Reading a model's structure without its weights

Recorded ${new Date().toISOString()} with \`node --conditions=source --import tsx bench/model-outline/run.ts ${args.join(" ")}\` (commit ${commit}).

- Machine: ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, shared with other work (times are indicative); each cell is a fresh process (bench/model-outline/measure.ts); peak RSS is its VmHWM, which includes node and the loaded modules.
- files-before: externalDataFiles before 624c925 (readFileSync, then protobufjs decodes the whole ModelProto); files-after: externalDataFiles now (readModelOutline's wire walk, no payload read).
- read-before: readModel (what bundleFlops and initialParams read each graph with); outline-after: readModelOutline without values.
- flops-before / flops-after: perSampleFlops over readModel / over readModelOutline with the small int initializers' values (what bundleFlops does now); the result column is the FLOPs, which must agree.

| model | file | mode | result | ms | peak RSS MiB |
| --- | ---: | --- | --- | ---: | ---: |
${rows.join("\n")}
`,
);
console.log(`wrote ${out}`);
