// Sessions over models whose weights are ONNX external data (ADR 0006 amendment 7): a model file is
// handed to ORT with its data left in the data file (ORT reads it), not read into the IR and encoded
// inline (one ModelProto cannot pass 2 GiB; bench/big-model shows that size); an in-memory model past
// externalDataAbove goes through a temporary data file. Real ORT sessions, real files.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { GraphSession, readModelForSession, writeModel, type Model, type Tensor } from "@sfprompt/engine";

const PEAK = fileURLToPath(new URL("./helpers/session-peak-rss.ts", import.meta.url));
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), "engine-extdata-"));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** y = ((x + prompt) W_1 ... W_n) + b; prompt is a graph input with a stored value (a trainable one). */
function chain(width: number, layers: number, cols = width): Model {
  const initializers = new Map<string, Tensor>();
  const prompt = new Float32Array(width).map((_, i) => ((i % 5) - 2) / 10);
  initializers.set("prompt", { dtype: "float32", dims: [1, width], data: prompt });
  const nodes: Model["graph"]["nodes"] = [
    { name: "add", opType: "Add", domain: "", inputs: ["x", "prompt"], outputs: ["h0"], attrs: {} },
  ];
  let rows = width;
  for (let l = 1; l <= layers; l++) {
    const c = l === layers ? cols : width;
    const w = new Float32Array(rows * c).map((_, i) => (((i * 7 + l) % 11) - 5) / (8 * rows));
    initializers.set(`w${l}`, { dtype: "float32", dims: [rows, c], data: w });
    nodes.push({
      name: `mm${l}`,
      opType: "MatMul",
      domain: "",
      inputs: [`h${l - 1}`, `w${l}`],
      outputs: [`h${l}`],
      attrs: {},
    });
    rows = c;
  }
  initializers.set("b", { dtype: "float32", dims: [cols], data: new Float32Array(cols).fill(0.25) });
  nodes.push({
    name: "bias",
    opType: "Add",
    domain: "",
    inputs: [`h${layers}`, "b"],
    outputs: ["y"],
    attrs: {},
  });
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
      outputs: [{ name: "y", dtype: "float32", shape: [1, cols] }],
      initializers,
      valueInfo: [],
    },
  };
}

const xOf = (width: number): Tensor => ({
  dtype: "float32",
  dims: [1, width],
  data: new Float32Array(width).map((_, i) => (i % 3) - 1),
});

async function outputs(model: Model | string, feeds: Record<string, Tensor>, opts = {}): Promise<number[]> {
  const s = await GraphSession.create(model, opts);
  try {
    assert.deepEqual(s.defaultedInputs, ["prompt"], "the trainable input keeps its stored value");
    return Array.from((await s.run(feeds))["y"]?.data as Float32Array);
  } finally {
    await s.release();
  }
}

describe("sessions over external tensor data", () => {
  it("opens a model file with its data in place: same outputs as the inline model, prompt fed or stored", async () => {
    const width = 32;
    const model = chain(width, 3);
    const dir = tmp();
    const path = join(dir, "body.onnx");
    assert.deepEqual(writeModel(path, model, { externalData: { threshold: 64 } }), ["body.onnx.data"]);
    const x = xOf(width);
    const inline = await outputs(model, { x });
    assert.deepEqual(await outputs(path, { x }), inline, "stored prompt");
    const fed: Tensor = { dtype: "float32", dims: [1, width], data: new Float32Array(width).fill(0.3) };
    const fedInline = await outputs(model, { x, prompt: fed });
    assert.notDeepEqual(fedInline, inline);
    assert.deepEqual(
      await outputs(path, { x, prompt: fed }),
      fedInline,
      "fed prompt overrides the stored one",
    );
    // what ORT is handed: the graph with the weights still external (a few hundred bytes, not the data)
    const data = statSync(join(dir, "body.onnx.data")).size;
    const { model: bytes, overridable } = readModelForSession(path);
    assert.deepEqual(Object.keys(overridable), ["prompt"]);
    assert.ok(bytes instanceof Uint8Array, "a trainable input: the graph's bytes without it");
    assert.ok(bytes.byteLength < data / 4, `${bytes.byteLength} bytes handed to ORT, data file ${data}`);
  });

  it("opens a model file without trainable inputs by its path: ORT reads it, node does not (inline or external)", async () => {
    // ADR 0006 amendment 9: readModelForSession returned the file's bytes, read whole (a 1.9 GiB inline
    // file was a 1.9 GiB Buffer before ORT copied it); a frozen graph (the server's body) is now opened
    // by ORT from its path, with the same outputs as the model opened from memory
    const width = 32;
    // the prompt a plain initializer, not a graph input: nothing for the session to take out
    const frozen = chain(width, 2);
    frozen.graph.inputs = frozen.graph.inputs.filter((i) => i.name !== "prompt");
    const x = xOf(width);
    const fromMemory = await GraphSession.create(frozen);
    const expected = Array.from((await fromMemory.run({ x }))["y"]?.data as Float32Array);
    await fromMemory.release();
    const dir = tmp();
    const files = {
      inline: join(dir, "inline.onnx"),
      external: join(dir, "external.onnx"),
    };
    writeModel(files.inline, frozen);
    writeModel(files.external, frozen, { externalData: { threshold: 64 } });
    for (const path of Object.values(files)) {
      const read = readModelForSession(path);
      assert.equal(read.model, path, "ORT is given the path, not bytes");
      assert.deepEqual(read.overridable, {});
      const s = await GraphSession.create(path);
      try {
        assert.deepEqual(s.defaultedInputs, []);
        assert.deepEqual(Array.from((await s.run({ x }))["y"]?.data as Float32Array), expected, path);
      } finally {
        await s.release();
      }
    }
  });

  it("refuses a model file whose data file was cut short when the session opens", async () => {
    const width = 16;
    const dir = tmp();
    const path = join(dir, "m.onnx");
    writeModel(path, chain(width, 1), { externalData: { threshold: 64 } });
    writeFileSync(join(dir, "m.onnx.data"), Buffer.alloc(8));
    await assert.rejects(GraphSession.create(path), /w1|external|data/i);
  });

  it("holds a model file's weights about once while opening it, not three or four times", () => {
    // 128 MiB of weights in one data file: opening through the IR held the IR's copy, the encoded
    // ModelProto and ORT's copy (448 MiB of growth before ADR 0006 amendment 7, 192 MiB after; the
    // bench: 2.9 GiB peak for 0.75 GiB of weights)
    const width = 4096;
    const dir = tmp();
    const path = join(dir, "big.onnx");
    writeModel(path, chain(width, 2, 4096), { externalData: {} });
    const warm = join(dir, "warm.onnx");
    writeModel(warm, chain(width, 1, 8), { externalData: {} });
    const data = statSync(join(dir, "big.onnx.data")).size;
    const r = spawnSync(
      process.execPath,
      ["--conditions=source", "--import", "tsx", PEAK, path, warm, String(width)],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const { growth, y0 } = JSON.parse(r.stdout.trim().split("\n").pop() as string) as {
      growth: number;
      y0: number;
    };
    assert.ok(Number.isFinite(y0));
    assert.ok(
      growth < 2.5 * data,
      `peak RSS grew ${(growth / 2 ** 20).toFixed(0)} MiB for ${(data / 2 ** 20).toFixed(0)} MiB of weights`,
    );
  });

  it("opens an in-memory model past externalDataAbove through a temporary data file it removes", async () => {
    const width = 32;
    const model = chain(width, 2);
    const x = xOf(width);
    const inline = await outputs(model, { x });
    const scratch = tmp();
    const gone = join(scratch, "no-such-folder");
    const before = process.env["TMPDIR"];
    try {
      process.env["TMPDIR"] = scratch;
      assert.deepEqual(await outputs(model, { x }, { externalDataAbove: 1024 }), inline);
      assert.deepEqual(readdirSync(scratch), [], "the temporary folder is gone once the session is open");
      // the temporary file is really written: with TMPDIR unwritable the same model fails past the
      // limit, saying what to do, and still opens inline below it
      process.env["TMPDIR"] = gone;
      await assert.rejects(
        GraphSession.create(model, { externalDataAbove: 1024 }),
        (e: Error) =>
          e.name === "OnnxIoError" &&
          e.message.startsWith(
            `cannot write the model's 1 MiB of weights to a temporary folder in ${gone} (ENOENT)`,
          ) &&
          e.message.endsWith("set TMPDIR to a writable folder with room for them"),
      );
      assert.deepEqual(await outputs(model, { x }), inline);
    } finally {
      if (before === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = before;
    }
  });
});
