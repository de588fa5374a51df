// `sfprompt grad` end to end: the real process is spawned, G is written and run in ORT; usage and
// user errors exit with 2 and 1 and name the flag or tensor, without a stack trace.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  buildGradientModel,
  f32,
  GraphBuilder,
  GraphSession,
  readModel,
  runOnce,
  writeModel,
  type Tensor,
} from "@sfprompt/engine";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function sfprompt(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000, // a hang (a recursive mkdir under /proc) fails the case instead of the file
    killSignal: "SIGKILL",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** y = Tanh(x @ w + b) with w, b initializers; ids is an int input. */
function writeTinyModel(dir: string): string {
  const b = new GraphBuilder({ opset: 17 });
  b.input("x", "float32", ["batch", 3]);
  b.input("ids", "int64", [2]);
  const w = b.initializer("w", f32([3, 2], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]));
  const bias = b.initializer("b", f32([2], [0.05, -0.05]));
  b.op("Tanh", [b.op("Add", [b.op("MatMul", ["x", w]), bias])], {}, { outputs: ["y"] });
  b.op("Cast", ["ids"], { to: 1 }, { outputs: ["idsf"] });
  b.output("y", "float32", ["batch", 2]);
  b.output("idsf", "float32", [2]);
  const path = join(dir, "m.onnx");
  writeModel(path, b.build());
  return path;
}

const feeds = {
  x: f32([2, 3], [1, 2, 3, -1, 0.5, 0]),
  ids: { dtype: "int64", dims: [2], data: BigInt64Array.of(1n, 2n) } as Tensor,
  grad_y: f32([2, 2], [1, -1, 0.5, 2]),
  grad_idsf: f32([2], [0, 0]),
};

describe("sfprompt grad", () => {
  it("writes G with the contract's inputs and outputs, and G's gradients are right in ORT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-grad-"));
    const model = writeTinyModel(dir);
    const out = join(dir, "g.onnx");
    const r = sfprompt("grad", "--model", model, "--wrt", "w,x,b", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), {
      event: "grad.written",
      mode: "recompute",
      wrt: ["w", "x", "b"],
      files: [out],
    });
    const g = readModel(out);
    assert.deepEqual(
      g.graph.inputs.map((i) => i.name),
      ["x", "ids", "grad_y", "grad_idsf", "w", "b"],
    );
    assert.deepEqual(
      g.graph.outputs.map((o) => o.name),
      ["y", "idsf", "grad_w", "grad_x", "grad_b"],
    );
    const session = await GraphSession.create(out);
    const got = await session.run(feeds);
    await session.release();
    const expected = await runOnce(buildGradientModel(readModel(model), { wrt: ["w", "x", "b"] }), feeds);
    for (const k of ["grad_w", "grad_x", "grad_b"]) assert.deepEqual(got[k]?.data, expected[k]?.data, k);
    // dL/db = sum over the batch of grad_y * (1 - y^2): checked by hand from y.
    const y = got["y"]?.data as Float32Array;
    const gy = feeds.grad_y.data as Float32Array;
    const db = [0, 1].map((j) =>
      [0, 1].reduce((s, i) => s + (gy[i * 2 + j] as number) * (1 - (y[i * 2 + j] as number) ** 2), 0),
    );
    Array.from(got["grad_b"]?.data as Float32Array).forEach((v, j) =>
      assert.ok(Math.abs(v - (db[j] as number)) < 1e-6),
    );
  });

  it("writes the forward and backward models in save-activations mode", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-grad-"));
    const out = join(dir, "g.onnx");
    const r = sfprompt(
      "grad",
      "--model",
      writeTinyModel(dir),
      "--wrt",
      "w",
      "--out",
      out,
      "--mode",
      "save-activations",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(out) && existsSync(join(dir, "g.backward.onnx")));
    assert.deepEqual(
      readModel(join(dir, "g.backward.onnx")).graph.outputs.map((o) => o.name),
      ["grad_w"],
    );
  });

  const usage: [string, string[], RegExp][] = [
    ["a missing --wrt", ["--model", "m.onnx", "--out", "g.onnx"], /--wrt is required/],
    [
      "an unknown flag",
      ["--model", "m.onnx", "--wrt", "w", "--out", "g.onnx", "--bogus", "1"],
      /unknown flag --bogus/,
    ],
    [
      "a bad --mode",
      ["--model", "m.onnx", "--wrt", "w", "--out", "g.onnx", "--mode", "fast"],
      /--mode must be one of recompute, save-activations/,
    ],
    ["a flag without its value", ["--model"], /--model needs a value/],
    [
      "an empty name in --wrt",
      ["--model", "m.onnx", "--wrt", "w,,b", "--out", "g.onnx"],
      /--wrt has an empty name/,
    ],
  ];
  for (const [what, args, message] of usage) {
    it(`exits 2 on ${what}, naming the flag`, () => {
      const r = sfprompt("grad", ...args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    });
  }

  it("exits 1 without a stack trace when --wrt names a non-float input", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-grad-"));
    const r = sfprompt("grad", "--model", writeTinyModel(dir), "--wrt", "ids", "--out", join(dir, "g.onnx"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--wrt "ids" has dtype int64/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("leaves none of the folders it made for --out when it fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-grad-"));
    const model = writeTinyModel(dir);
    const r = sfprompt(
      "grad",
      "--model",
      model,
      "--wrt",
      "ids",
      "--out",
      join(dir, "grads", "tiny", "g.onnx"),
    );
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(readdirSync(dir), ["m.onnx"], "the folders it made are removed");
  });

  it("exits 1 naming --out when its folder cannot be made: under /proc (it hung), under a file (a stack)", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-grad-"));
    const model = writeTinyModel(dir);
    const cases: Array<[string, RegExp]> = [
      [
        "/proc/sfprompt-grad-test/g.onnx",
        /its folder \/proc\/sfprompt-grad-test cannot be created \(ENOENT\)/,
      ],
      [join(model, "g.onnx"), /its folder \S+ exists and is not a folder/],
    ];
    for (const [out, message] of cases) {
      const r = sfprompt("grad", "--model", model, "--wrt", "w", "--out", out);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^sfprompt grad: --out ${out.replace(/[.]/g, "\\.")}: ${message.source}; give another --out$`,
          "m",
        ),
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });

  it("exits 1 when the model file does not exist, naming it and --model", () => {
    const r = sfprompt("grad", "--model", "/nonexistent/m.onnx", "--wrt", "w", "--out", "/tmp/g.onnx");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^sfprompt grad: --model: cannot read ONNX model \/nonexistent\/m.onnx \(ENOENT\)/,
    );
  });

  it("exits 1 naming --model, and says to export one, when the file is no ONNX model", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-grad-"));
    try {
      const pt = join(dir, "m.safetensors");
      writeFileSync(pt, '{"__metadata__":{}}');
      const r = sfprompt("grad", "--model", pt, "--wrt", "w", "--out", join(dir, "g.onnx"));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^sfprompt grad: --model: cannot load ONNX model \S+m\.safetensors: /);
      assert.match(
        r.stderr,
        /; give the path of an ONNX model file \(a PyTorch, safetensors or TensorFlow checkpoint is not one: export it to ONNX first, e\.g\. with torch\.onnx\.export\)\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints help for the program and the command, and rejects unknown commands with exit 2", () => {
    assert.match(sfprompt("--help").stdout, /grad\s+write a model/);
    const help = sfprompt("grad", "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--mode MODE/);
    const unknown = sfprompt("frobnicate");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
