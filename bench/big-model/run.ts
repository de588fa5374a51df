// Models past 2 GiB: builds a MatMul chain whose f32 weights (external data, written by writeModel as
// `prepare` does for graphs past 1 GiB) total more and less than 2 GiB, opens each one through
// GraphSession, the bundle's SessionPool (the server's body session) and the old inline path (the
// whole model read into the IR and encoded as one ModelProto), each in a fresh process, and records
// whether it opened, the time and the peak RSS. Writes up to ~2.3 GiB under --dir (default a temp
// folder), removed afterwards.
//   node --conditions=source --import tsx bench/big-model/run.ts [--out bench/results/big-model.md]
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
const out = flag("--out", "bench/results/big-model.md");
const width = Number(flag("--width", "8192"));
const sizes = flag("--layers", "3,9").split(",").map(Number);
const modes = ["graph-session", "pool", "inline"] as const;

/** y = (x + prompt) W_1 ... W_n; prompt is a graph input with a stored value (a trainable one). */
function chain(n: number): Model {
  const initializers = new Map<string, Tensor>();
  initializers.set("prompt", { dtype: "float32", dims: [1, width], data: new Float32Array(width).fill(0.5) });
  const pattern = new Float32Array(4099);
  for (let i = 0; i < pattern.length; i++) pattern[i] = ((i % 7) + 1) / (4 * width);
  const nodes: Model["graph"]["nodes"] = [
    { name: "add", opType: "Add", domain: "", inputs: ["x", "prompt"], outputs: ["h0"], attrs: {} },
  ];
  for (let l = 1; l <= n; l++) {
    const w = new Float32Array(width * width);
    w.set(pattern);
    for (let filled = pattern.length; filled < w.length; filled *= 2)
      w.copyWithin(filled, 0, Math.min(filled, w.length - filled));
    initializers.set(`w${l}`, { dtype: "float32", dims: [width, width], data: w });
    nodes.push({
      name: `mm${l}`,
      opType: "MatMul",
      domain: "",
      inputs: [`h${l - 1}`, `w${l}`],
      outputs: [l === n ? "y" : `h${l}`],
      attrs: {},
    });
  }
  return {
    irVersion: 8,
    opsetImports: [{ domain: "", version: 17 }],
    graph: {
      name: "chain",
      nodes,
      inputs: [
        { name: "x", dtype: "float32", shape: [1, width] },
        { name: "prompt", dtype: "float32", shape: [1, width] },
      ],
      outputs: [{ name: "y", dtype: "float32", shape: [1, width] }],
      initializers,
      valueInfo: [],
    },
  };
}

interface Outcome {
  ok: boolean;
  y0?: number;
  error?: string;
  ms: number;
  peakRssMiB: number;
}

const dir = mkdtempSync(join(flag("--dir", tmpdir()), "big-model-"));
const rows: string[] = [];
try {
  for (const n of sizes) {
    const path = join(dir, `chain${n}.onnx`);
    // the same threshold prepare uses past 1 GiB: every weight goes to <file>.data
    writeModel(path, chain(n), { externalData: { threshold: 1024 } });
    const dataBytes = statSync(`${path}.data`).size;
    const gib = (dataBytes / 2 ** 30).toFixed(2);
    for (const mode of modes) {
      const line = execFileSync(
        process.execPath,
        ["--conditions=source", "--import", "tsx", "bench/big-model/open.ts", mode, path, String(width)],
        { encoding: "utf8", maxBuffer: 1 << 20 },
      ).trim();
      const r = JSON.parse(line.split("\n").pop() as string) as Outcome;
      console.log(n, mode, r);
      const result = r.ok ? `opened and ran (y[0] = ${r.y0?.toPrecision(6)})` : `**failed**: ${r.error}`;
      rows.push(`| ${n} × ${width}² | ${gib} GiB | ${mode} | ${result} | ${r.ms} | ${r.peakRssMiB} |`);
    }
    rmSync(path);
    rmSync(`${path}.data`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
const md = `# Models past 2 GiB: opening a graph whose weights are ONNX external data

Recorded ${new Date().toISOString()} with \`node --conditions=source --import tsx bench/big-model/run.ts ${args.join(" ")}\` (commit ${commit}, plus the working tree's changes to packages/engine/src/ort when run before committing them).

- Machine: ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; each cell is a fresh process (bench/big-model/open.ts) that opens the model and runs it once on x = 1; peak RSS is its VmHWM.
- Model: y = (x + prompt) W_1 … W_n, f32 weights of ${width}×${width} (256 MiB each at 8192) written by writeModel with external data into \`<file>.data\` (as \`prepare\` does past 1 GiB); \`prompt\` is a graph input with a stored value (a trainable one: GraphSession feeds it when the caller does not).
- Modes: graph-session = \`GraphSession.create(path)\`; pool = \`SessionPool\` over the folder (the server's body session, \`pool.run(file)\`); inline = what both did before ADR 0006 amendment 7: \`readModel\` (every weight read into the IR) then \`encodeModel\` (one ModelProto with every tensor inline) then \`InferenceSession.create(bytes)\`.

| weights | data file | mode | result | ms | peak RSS MiB |
| --- | ---: | --- | --- | ---: | ---: |
${rows.join("\n")}
`;
writeFileSync(out, md);
console.log(md);
