// A large model file with every weight inline (no external data) opened for an ORT session, the way
// GraphSession / SessionPool open a graph without trainable inputs (the server's body): before ADR 0006
// amendment 9 the file was read whole into a Buffer and handed to ORT as bytes (readModelForSession
// returned the file's bytes), now ORT opens it by its path. Each cell is a fresh process
// (bench/big-model/open.ts); peak RSS is its VmHWM. Writes up to ~1.9 GiB under --dir (default a
// temp folder), removed afterwards.
//   node --conditions=source --import tsx bench/big-model/inline.ts [--out bench/results/big-model-inline.md]
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
const out = flag("--out", "bench/results/big-model-inline.md");
const width = Number(flag("--width", "8192"));
const sizes = flag("--layers", "3,7").split(",").map(Number);
const modes = ["file-bytes", "graph-session", "pool"] as const;

/** y = x W_1 ... W_n, every weight inline; no initializer is a graph input (a frozen body). */
function chain(n: number): Model {
  const initializers = new Map<string, Tensor>();
  const pattern = new Float32Array(4099);
  for (let i = 0; i < pattern.length; i++) pattern[i] = ((i % 7) + 1) / (4 * width);
  const nodes: Model["graph"]["nodes"] = [];
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
      inputs: [l === 1 ? "x" : `h${l - 1}`, `w${l}`],
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
      inputs: [{ name: "x", dtype: "float32", shape: [1, width] }],
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

const dir = mkdtempSync(join(flag("--dir", tmpdir()), "big-inline-"));
const rows: string[] = [];
try {
  for (const n of sizes) {
    const path = join(dir, `chain${n}.onnx`);
    writeModel(path, chain(n));
    const gib = (statSync(path).size / 2 ** 30).toFixed(2);
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
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
const md = `# Inline models opened for a session: by path, not read whole first

Recorded ${new Date().toISOString()} with \`node --conditions=source --import tsx bench/big-model/inline.ts ${args.join(" ")}\` (commit ${commit}).

- Machine: ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; each cell is a fresh process (bench/big-model/open.ts) that opens the model and runs it once on x = 1; peak RSS is its VmHWM.
- Model: y = x W_1 … W_n, f32 weights of ${width}×${width} (256 MiB each at 8192), every one inline in the .onnx file (written by writeModel without external data; one ModelProto stays under 2 GiB); no initializer is a graph input, as in the server's body partition.
- Modes: file-bytes = what GraphSession.create(path) did before ADR 0006 amendment 9 for such a model: the file read whole (\`readFileSync\`) and \`InferenceSession.create(bytes)\` with the model's folder for external data; graph-session = \`GraphSession.create(path)\` now (the graph's outline read without its weights, then ORT opens the path); pool = \`SessionPool\` over the folder (the server's body session), now.

| weights | file | mode | result | ms | peak RSS MiB |
| --- | ---: | --- | --- | ---: | ---: |
${rows.join("\n")}
`;
writeFileSync(out, md);
console.log(md);
