// An inline weight whose raw_data holds another byte count than its dims × dtype (a file cut or
// changed inside a weight, its framing whole): readModelOutline, which steps over the bytes, passed it
// (sfprompt validate found nothing), and readModel said "has shape [..] but N values" or "N bytes is
// not a whole number of float32 elements" without the tensor. Both now refuse it with one message
// naming the tensor and the file; the outline reads no weight to find it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OnnxIoError, readModel, readModelOutline, TensorBytesError, writeModel } from "@sfprompt/engine";
import { toyVit } from "./helpers/split-models.js";

test("readModel and readModelOutline name a weight whose raw_data is not its dims × dtype", () => {
  const dir = mkdtempSync(join(tmpdir(), "engine-raw-bytes-"));
  try {
    const cases: Array<[string, (n: number) => number]> = [
      ["half of its values", (n) => n / 2],
      ["one byte more", (n) => n * 4 + 1],
    ];
    for (const [what, size] of cases) {
      const { model } = toyVit({ blocks: 2 });
      const [name, t] = [...model.graph.initializers].find(
        ([, w]) => w.dtype === "float32" && w.dims.length === 2,
      )!;
      const n = t.dims.reduce((a, b) => a * b, 1);
      const bytes = what === "one byte more" ? size(n) : size(n) * 4;
      // raw_data of `bytes` bytes under the weight's dims and dtype (writeModel writes a payload's bytes as they are)
      model.graph.initializers.set(name, { dtype: "float32", dims: t.dims, data: new Uint8Array(bytes) });
      const path = join(dir, `${what.replaceAll(" ", "-")}.onnx`);
      writeModel(path, model);
      const expected = `cannot load ONNX model ${path}: tensor "${name}" is float32 [${t.dims.join(",")}], ${n * 4} bytes, but its raw_data holds ${bytes} bytes: the file was cut or changed after it was written`;
      for (const [reader, read] of [
        ["readModel", () => readModel(path)],
        ["readModelOutline", () => readModelOutline(path)],
      ] as const)
        assert.throws(read, (e: unknown) => {
          assert.ok(e instanceof OnnxIoError, `${what}, ${reader}: ${String(e)}`);
          assert.equal(e.message, expected, `${what}, ${reader}`);
          assert.ok(e.cause instanceof TensorBytesError, `${what}, ${reader}`);
          return true;
        });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
