// ONNX external data must be a file in the model's folder (ADR 0006 amendment 9): a location that is
// absolute, climbs out with "..", or is a symbolic link to a file outside the folder is refused by
// every reader (readModel, readModelOutline, readModelForSession, externalDataFiles, GraphSession)
// with an ExternalDataLocationError naming the tensor, the location and the model file, before any
// of them opens, lists or hands on the file (they read /etc/passwd-like files as weights before).
// Locations inside the folder still read: a name that starts with "..", a link inside the folder (a
// ConfigMap volume's ..data), a Hugging Face cache snapshot whose files are links to its blobs.
// Real files, real ORT sessions.
import assert from "node:assert/strict";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import {
  ExternalDataLocationError,
  externalDataFiles,
  GraphSession,
  readModel,
  readModelForSession,
  readModelOutline,
  writeModel,
  type Model,
  type Tensor,
} from "@sfprompt/engine";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), "engine-extloc-")));
  dirs.push(d);
  return d;
};

const WIDTH = 16;

/** y = x W + b, W and b past the external threshold; `prompt` (optional) a trainable graph input. */
function affine(trainable: boolean): Model {
  const w = new Float32Array(WIDTH * WIDTH).map((_, i) => ((i % 7) - 3) / 10);
  const b = new Float32Array(WIDTH).map((_, i) => i / 100);
  const initializers = new Map<string, Tensor>([
    ["w", { dtype: "float32", dims: [WIDTH, WIDTH], data: w }],
    ["b", { dtype: "float32", dims: [WIDTH], data: b }],
  ]);
  const nodes: Model["graph"]["nodes"] = [
    { name: "mm", opType: "MatMul", domain: "", inputs: ["x", "w"], outputs: ["h"], attrs: {} },
    { name: "add", opType: "Add", domain: "", inputs: ["h", "b"], outputs: ["y"], attrs: {} },
  ];
  const inputs = [{ name: "x", dtype: "float32" as const, shape: [1, WIDTH] }];
  if (trainable) inputs.push({ name: "b", dtype: "float32", shape: [WIDTH] });
  return {
    irVersion: 8,
    opsetImports: [{ domain: "", version: 17 }],
    graph: {
      name: "affine",
      nodes,
      inputs,
      outputs: [{ name: "y", dtype: "float32", shape: [1, WIDTH] }],
      initializers,
      valueInfo: [],
    },
  };
}

function modelType(): protobuf.Type {
  const src = readFileSync(
    fileURLToPath(new URL("../src/proto/onnx-proto-text.ts", import.meta.url)),
    "utf8",
  );
  const text = src.slice(src.indexOf("`") + 1, src.lastIndexOf("`"));
  return protobuf.parse(text, { keepCase: true }).root.lookupType("onnx.ModelProto");
}

type Msg = Record<string, unknown>;
type ModelMsg = Msg & { graph: { initializer: Msg[]; node: Msg[] } };

/**
 * `dir`/model.onnx: the affine model with its weights in one data file that the model names by
 * `location` (the data written where `dataAt` says, when given), as writeModel writes it but for the
 * location; with `constant`, also a Constant node whose tensor is external at that location.
 */
function modelNaming(
  dir: string,
  location: string,
  o: { dataAt?: string; trainable?: boolean; constant?: boolean; sparse?: boolean } = {},
): string {
  mkdirSync(dir, { recursive: true });
  const scratch = join(tmp(), "m.onnx");
  // sparse: w alone is external (b's 64 bytes stay inline), so its data file is the sparse one's
  const threshold = o.sparse === true ? 128 : 32;
  writeModel(scratch, affine(o.trainable ?? false), { externalData: { threshold } });
  if (o.dataAt !== undefined) copyFileSync(`${scratch}.data`, o.dataAt);
  const type = modelType();
  const msg = type.toObject(type.decode(readFileSync(scratch))) as ModelMsg;
  const relocate = (t: Msg): void => {
    for (const e of (t["external_data"] ?? []) as { key: string; value: string }[])
      if (e.key === "location") e.value = location;
  };
  for (const t of msg.graph.initializer) relocate(t);
  if (o.constant === true) {
    const w = msg.graph.initializer.find((t) => t["name"] === "w") as Msg;
    const t = { ...w, name: "c", external_data: (w["external_data"] as object[]).map((e) => ({ ...e })) };
    msg.graph.node.push({ op_type: "Constant", output: ["c"], attribute: [{ name: "value", type: 4, t }] });
  }
  if (o.sparse === true) toSparse(msg, "w");
  const path = join(dir, "model.onnx");
  writeFileSync(path, type.encode(type.fromObject(msg)).finish());
  return path;
}

/**
 * Moves initializer `name` (external) to the graph's sparse_initializer: its values, every element
 * (external where it was), and their flat indices 0..n-1 (inline int64), the dense dims kept.
 */
function toSparse(msg: ModelMsg, name: string): void {
  const at = msg.graph.initializer.findIndex((t) => t["name"] === name);
  const t = msg.graph.initializer[at]!;
  msg.graph.initializer.splice(at, 1);
  const dims = t["dims"] as number[];
  const n = dims.reduce((a, d) => a * Number(d), 1);
  const indices = { dims: [n], data_type: 7, int64_data: Array.from({ length: n }, (_, i) => i) };
  (msg.graph as Msg)["sparse_initializer"] = [{ values: { ...t, dims: [n] }, indices, dims }];
}

const x: Tensor = {
  dtype: "float32",
  dims: [1, WIDTH],
  data: new Float32Array(WIDTH).map((_, i) => (i % 3) - 1),
};

async function run(model: Model | string): Promise<number[]> {
  const s = await GraphSession.create(model);
  try {
    return Array.from((await s.run({ x }))["y"]?.data as Float32Array);
  } finally {
    await s.release();
  }
}

/** The readers, each on `path`; GraphSession's open is awaited. */
const READERS: readonly { name: string; read: (path: string) => unknown }[] = [
  { name: "readModel", read: readModel },
  { name: "readModelOutline", read: (p) => readModelOutline(p) },
  { name: "readModelOutline with every value", read: (p) => readModelOutline(p, { values: () => true }) },
  {
    name: "readModelOutline checking external data",
    read: (p) => readModelOutline(p, { checkExternalData: true }),
  },
  { name: "readModelForSession", read: readModelForSession },
  { name: "externalDataFiles", read: externalDataFiles },
  { name: "GraphSession.create", read: (p) => GraphSession.create(p).then((s) => s.release()) },
];

/** Each reader refuses `path` with the ExternalDataLocationError for `location`, `why` in its message. */
async function assertRefused(
  path: string,
  location: string,
  why: string,
  tensors = ["w", "b"],
  where = "outside",
): Promise<void> {
  for (const r of READERS) {
    await assert.rejects(
      async () => r.read(path),
      (e: unknown) => {
        assert.ok(e instanceof ExternalDataLocationError, `${r.name}: ${String(e)}`);
        assert.equal(e.path, path, r.name);
        assert.equal(e.location, location, r.name);
        assert.ok(tensors.includes(e.tensor), `${r.name}: ${e.tensor}`);
        assert.ok(
          e.message.startsWith(
            `cannot load ONNX model ${path}: tensor "${e.tensor}" keeps its data at external location "${location}", ${why}, ${where} the model's folder `,
          ),
          `${r.name}: ${e.message}`,
        );
        assert.match(e.message, /save the model again with its external data beside it/, r.name);
        return true;
      },
      r.name,
    );
  }
}

describe("external data locations outside the model's folder", () => {
  it("an absolute location is refused by every reader, naming the tensor, the location and the model", async () => {
    const root = tmp();
    const secret = join(root, "secret.bin");
    const path = modelNaming(join(root, "m"), secret, { dataAt: secret });
    await assertRefused(path, secret, "an absolute path");
  });

  for (const location of ["../secret.bin", "a/../../secret.bin"]) {
    it(`a location that climbs out of the folder (${location}) is refused by every reader`, async () => {
      const root = tmp();
      const path = modelNaming(join(root, "m"), location, { dataAt: join(root, "secret.bin") });
      await assertRefused(path, location, 'a path that climbs out of it with ".."');
    });
  }

  it("a symbolic link in the folder to a file outside it is refused by every reader", async () => {
    const root = tmp();
    const secret = join(root, "secret.bin");
    const path = modelNaming(join(root, "m"), "weights.bin", { dataAt: secret });
    symlinkSync(secret, join(root, "m", "weights.bin"));
    await assertRefused(path, "weights.bin", `a symbolic link to ${secret}`);
    assert.throws(
      () => readModel(path),
      (e: Error) =>
        e.message.includes(
          `: put a copy of ${secret} at ${join(root, "m", "weights.bin")} in place of the link, or save`,
        ),
    );
  });

  it("a location through a linked folder outside it is refused, as ORT refuses it", async () => {
    const root = tmp();
    mkdirSync(join(root, "elsewhere"));
    const path = modelNaming(join(root, "m"), "shared/weights.bin", {
      dataAt: join(root, "elsewhere", "weights.bin"),
    });
    symlinkSync(join(root, "elsewhere"), join(root, "m", "shared"));
    await assertRefused(
      path,
      "shared/weights.bin",
      `a symbolic link to ${join(root, "elsewhere", "weights.bin")}`,
    );
  });

  it("a Constant node's tensor that climbs out is refused too, with inline weights beside it", async () => {
    const root = tmp();
    const path = modelNaming(join(root, "m"), "model.onnx.data", {
      dataAt: join(root, "m", "model.onnx.data"),
      constant: true,
    });
    // the Constant alone names the escaping location: rewrite only its entry
    const type = modelType();
    const msg = type.toObject(type.decode(readFileSync(path))) as ModelMsg;
    const node = msg.graph.node.find((n) => n["op_type"] === "Constant") as Msg;
    const t = (node["attribute"] as Msg[])[0]!["t"] as Msg;
    for (const e of t["external_data"] as { key: string; value: string }[])
      if (e.key === "location") e.value = "../secret.bin";
    copyFileSync(join(root, "m", "model.onnx.data"), join(root, "secret.bin"));
    writeFileSync(path, type.encode(type.fromObject(msg)).finish());
    await assertRefused(path, "../secret.bin", 'a path that climbs out of it with ".."', ["c"]);
  });

  it("a sparse initializer's values that climb out are refused too (they were not checked)", async () => {
    const root = tmp();
    const path = modelNaming(join(root, "m"), "../secret.bin", {
      dataAt: join(root, "secret.bin"),
      sparse: true,
    });
    await assertRefused(path, "../secret.bin", 'a path that climbs out of it with ".."', ["w"]);
  });

  for (const location of [".", "a/.."]) {
    it(`a location that is the model's folder itself (${location}) is refused by every reader`, async () => {
      const root = tmp();
      const path = modelNaming(join(root, "m"), location);
      mkdirSync(join(root, "m", "a"));
      await assertRefused(path, location, "the model's folder itself", ["w", "b"], "not a file in");
    });
  }

  it("a location that is a folder in the model's folder is refused by every reader (it failed as EISDIR)", async () => {
    const root = tmp();
    const path = modelNaming(join(root, "m"), "weights");
    mkdirSync(join(root, "m", "weights"));
    await assertRefused(path, "weights", "a folder", ["w", "b"], "not a file in");
  });

  it("a trainable initializer's model (read as bytes for ORT) is refused the same", async () => {
    const root = tmp();
    const path = modelNaming(join(root, "m"), "../secret.bin", {
      dataAt: join(root, "secret.bin"),
      trainable: true,
    });
    await assertRefused(path, "../secret.bin", 'a path that climbs out of it with ".."');
  });
});

describe("external data locations inside the model's folder", () => {
  const inline = (): Promise<number[]> => run(affine(false));

  it("a data file whose name starts with '..' is read (it was refused as climbing out)", async () => {
    const root = tmp();
    const path = modelNaming(join(root, "m"), "..weights.bin", { dataAt: join(root, "m", "..weights.bin") });
    assert.deepEqual(externalDataFiles(path), ["..weights.bin"]);
    assert.deepEqual(readModel(path).graph.initializers.get("w"), affine(false).graph.initializers.get("w"));
    assert.deepEqual(await run(path), await inline());
  });

  it("a sparse initializer's data file in the folder is listed, read by ORT as the inline model", async () => {
    const root = tmp();
    const path = modelNaming(join(root, "m"), "model.onnx.data", {
      dataAt: join(root, "m", "model.onnx.data"),
      sparse: true,
    });
    // w is the only external tensor, and it is sparse: its file is one the model needs
    assert.deepEqual(externalDataFiles(path), ["model.onnx.data"]);
    assert.deepEqual(await run(path), await inline());
  });

  it("a link inside the folder (a ConfigMap volume's ..data) is read, by us and by ORT", async () => {
    const root = tmp();
    const m = join(root, "m");
    const stamp = join(m, "..2026_11_29");
    mkdirSync(stamp, { recursive: true });
    const path = modelNaming(m, "model.onnx.data", { dataAt: join(stamp, "model.onnx.data") });
    symlinkSync("..2026_11_29", join(m, "..data"));
    symlinkSync("..data/model.onnx.data", join(m, "model.onnx.data"));
    assert.deepEqual(externalDataFiles(path), ["model.onnx.data"]);
    assert.deepEqual(readModel(path).graph.initializers.get("b"), affine(false).graph.initializers.get("b"));
    assert.deepEqual(await run(path), await inline());
  });

  /** A Hugging Face cache snapshot of the affine model: model.onnx and its data, links to blobs. */
  function snapshotOf(root: string, trainable: boolean): string {
    const made = modelNaming(join(root, "made"), "model.onnx.data", {
      dataAt: join(root, "made", "model.onnx.data"),
      trainable,
    });
    const blobs = join(root, "models--x", "blobs");
    const snapshot = join(root, "models--x", "snapshots", "abc123");
    mkdirSync(blobs, { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    copyFileSync(made, join(blobs, "1111"));
    copyFileSync(`${made}.data`, join(blobs, "2222"));
    symlinkSync("../../blobs/1111", join(snapshot, "model.onnx"));
    symlinkSync("../../blobs/2222", join(snapshot, "model.onnx.data"));
    return join(snapshot, "model.onnx");
  }

  it("a Hugging Face snapshot of a graph with a trainable input (handed to ORT as bytes) runs as the inline model", async () => {
    // ADR 0006 amendment 13: from bytes ORT resolved the data in the snapshot's folder and refused the
    // link to ../../blobs, which our check (and ORT by path) allows
    const path = snapshotOf(tmp(), true);
    assert.deepEqual(externalDataFiles(path), ["model.onnx.data"]);
    assert.deepEqual(await run(path), await inline());
    // b is the trainable input, its stored value (read through the link) the session's default
    const s = await GraphSession.create(path);
    try {
      assert.deepEqual(s.defaultedInputs, ["b"]);
    } finally {
      await s.release();
    }
  });

  it("a graph with a trainable input whose frozen data file is missing has ORT name the file where the model puts it", async () => {
    // relocateExternalData moves the folder ORT resolves from to the one holding the data that is
    // there (sub/); a location whose file is not there is left for ORT to name, at its own place
    const dir = join(tmp(), "m");
    mkdirSync(join(dir, "sub"), { recursive: true });
    const dataAt = join(dir, "sub", "m.onnx.data");
    const path = modelNaming(dir, "sub/m.onnx.data", { trainable: true, dataAt });
    const type = modelType();
    const msg = type.toObject(type.decode(readFileSync(path))) as ModelMsg;
    const w = msg.graph.initializer.find((t) => t["name"] === "w") as Msg;
    const gone = (w["external_data"] as { key: string; value: string }[]).map((e) =>
      e.key === "location" ? { ...e, value: "gone.bin" } : { ...e },
    );
    // the MatMul reads the Constant (ORT drops a node nobody reads before it loads its data)
    const mm = msg.graph.node.find((n) => n["op_type"] === "MatMul") as Msg;
    mm["input"] = ["x", "c"];
    msg.graph.node.unshift({
      op_type: "Constant",
      output: ["c"],
      attribute: [{ name: "value", type: 4, t: { ...w, name: "c", external_data: gone } }],
    });
    writeFileSync(path, type.encode(type.fromObject(msg)).finish());
    await assert.rejects(GraphSession.create(path), (e: unknown) => {
      const text = String(e instanceof Error ? `${e.message} ${String(e.cause ?? "")}` : e);
      assert.ok(text.includes(join(dir, "gone.bin")), text);
      assert.ok(!text.includes(join(dir, "sub", "gone.bin")), text);
      return true;
    });
  });

  it("a Hugging Face cache snapshot (model and data links to its blobs) is read, by us and by ORT", async () => {
    const path = snapshotOf(tmp(), false);
    assert.deepEqual(externalDataFiles(path), ["model.onnx.data"]);
    assert.equal(readModelOutline(path, { checkExternalData: true }).initializers.size, 2);
    assert.deepEqual(await run(path), await inline());
  });
});
