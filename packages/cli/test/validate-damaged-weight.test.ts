// An ONNX file whose inline weight holds fewer bytes than its dims × dtype (a file cut or changed
// inside a weight, its protobuf framing whole) passed sfprompt validate: the model check reads the
// outline, which steps over the weights' bytes, and sfprompt run was refused at the split, after
// "starting", with "has shape [..] but N values" and a hint to export a checkpoint to ONNX. The
// outline pass now checks each raw_data's length (no extra read), and both name the tensor and the
// file. The real CLI on a real ONNX file (the tiny ViT with one weight cut in half).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readModel, writeModel } from "@sfprompt/engine";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("sfprompt validate with a model whose weight is cut", () => {
  let dir = "";
  let job = "";
  let model = "";
  let weight = { name: "", dims: [] as readonly number[] };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-cut-weight-"));
    const tiny = writeTinyJob(dir);
    const m = readModel(join(dir, "vit.onnx"));
    // the first float weight of rank 2: its values cut to half, its dims left as they are
    const [name, t] = [...m.graph.initializers].find(
      ([, w]) => w.dtype === "float32" && w.dims.length === 2,
    )!;
    const data = t.data as Float32Array;
    m.graph.initializers.set(name, { ...t, data: data.slice(0, data.length / 2) });
    weight = { name, dims: t.dims };
    model = join(dir, "cut.onnx");
    writeModel(model, m);
    job = join(dir, "cut.yaml");
    writeFileSync(job, readFileSync(tiny, "utf8").replace(join(dir, "vit.onnx"), model));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names the tensor and the file: validate exits 1, run before it starts anything", () => {
    const n = weight.dims.reduce((a, b) => a * b, 1);
    const message = new RegExp(
      `: spec\\.model\\.source\\.path: cannot load ONNX model ${escape(model)}: tensor "${escape(weight.name)}" ` +
        `is float32 \\[${weight.dims.join(",")}\\], ${n * 4} bytes, but its raw_data holds ${n * 2} bytes: ` +
        "the file was cut or changed after it was written; the file is damaged: copy or export the model again$",
      "m",
    );
    const v = sfprompt("validate", job);
    assertUserError(v, message);
    assert.ok(v.stderr.startsWith(`sfprompt validate: ${job}: `), v.stderr);
    const out = join(dir, "out");
    const r = sfprompt("run", job, "--out", out);
    assertUserError(r, message);
    assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
    assert.equal(existsSync(out), false, "no run folder");
  });
});
