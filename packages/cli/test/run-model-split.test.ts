// `sfprompt run` with a job whose model, as it is on this machine, does not fit the job: a
// model.source.path that is a folder, more head blocks than the model has, a cut tensor it does not
// have, a classifier that cannot be replaced, a tensor already named "prompt", a tail it cannot move.
// Each is named by the job file's field, not by a flag of `sfprompt prepare` the user never typed or
// a bare "cannot read".
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readModel, writeModel, type Model } from "@sfprompt/engine";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run with a model that does not fit its job", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-model-"));
    job = writeTinyJob(dir); // a ViT of 2 blocks at dir/vit.onnx
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The tiny job's ViT changed by `edit`, written to NAME.onnx, and a job on it, NAME.yaml. */
  function onModel(name: string, edit: (m: Model) => void): string {
    const model = readModel(join(dir, "vit.onnx"));
    edit(model);
    const path = join(dir, `${name}.onnx`);
    writeModel(path, model);
    return variant(name, JSON.stringify(join(dir, "vit.onnx")), JSON.stringify(path));
  }

  /** The tiny job with `from` replaced by `to` in its text, written to NAME.yaml. */
  function variant(name: string, from: string, to: string): string {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, readFileSync(job, "utf8").replace(from, to));
    return path;
  }

  it("names spec.model.source.path when it is a folder", () => {
    const folder = join(dir, "models");
    mkdirSync(folder);
    const file = variant("folder", JSON.stringify(join(dir, "vit.onnx")), JSON.stringify(folder));
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-folder")),
      /^sfprompt run: \S+folder\.yaml: spec\.model\.source\.path: \S+models is a folder; give the path of the ONNX model file in it/m,
    );
  });

  it("names spec.model.source.path when the file is not an ONNX model (a PyTorch checkpoint, a cut-off file)", () => {
    const checkpoint = join(dir, "vit.pt"); // a zip, as torch.save writes
    writeFileSync(
      checkpoint,
      Buffer.from("PK\u0003\u0004archive/data.pkl\u0000\u0080\u0002}q\u0000", "latin1"),
    );
    const whole = readFileSync(join(dir, "vit.onnx"));
    const cut = join(dir, "cut.onnx");
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    for (const [name, path] of [
      ["checkpoint", checkpoint],
      ["cut-off", cut],
    ] as const) {
      const file = variant(name, JSON.stringify(join(dir, "vit.onnx")), JSON.stringify(path));
      const r = sfprompt("run", file, "--out", join(dir, `out-${name}`));
      assertUserError(r, /^sfprompt run: \S+\.yaml: spec\.model\.source\.path: cannot load ONNX model /m);
      const line = r.stderr.split("\n").find((l) => l.startsWith("sfprompt run:")) ?? "";
      assert.ok(
        line.startsWith(`sfprompt run: ${file}: spec.model.source.path: cannot load ONNX model ${path}: `),
        line,
      );
      assert.ok(
        line.endsWith(
          "; give the path of an ONNX model file (a PyTorch, safetensors or TensorFlow checkpoint is not one: export it to ONNX first, e.g. with torch.onnx.export)",
        ),
        line,
      );
    }
  });

  it("names spec.model.split.headBlocks when the model has too few blocks", () => {
    const file = variant("head-blocks", "  data:", "    split: { headBlocks: 2 }\n  data:");
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-head-blocks")),
      /^sfprompt run: \S+head-blocks\.yaml: spec\.model\.split\.headBlocks: the model cannot be split as the job asks \(in sfprompt prepare's flags: --head-blocks 2 leaves no block for the body: the model has 2 blocks \(timm\), so use 0\.\.1\)$/m,
    );
  });

  it("names spec.model.split.cutTensors.head when the model has no such tensor", () => {
    const file = variant(
      "cut-head",
      "  data:",
      "    split: { cutTensors: { head: nope, body: nope-too } }\n  data:",
    );
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-cut-head")),
      /^sfprompt run: \S+cut-head\.yaml: spec\.model\.split\.cutTensors\.head: the model cannot be split as the job asks \(in sfprompt prepare's flags: --cut-head "nope" is not a tensor of the model/m,
    );
  });

  it("names spec.classes.newClassifier when the model's classifier cannot be replaced", () => {
    // the logits come from an Identity after the classifier's Gemm: no classifier to swap
    const file = onModel("identity-logits", (m) => {
      const gemm = m.graph.nodes.find((n) => n.outputs.includes("logits"));
      assert.ok(gemm !== undefined, "the ViT computes logits");
      gemm.outputs = gemm.outputs.map((o) => (o === "logits" ? "logits_gemm" : o));
      m.graph.nodes.push({
        name: "/logits_identity",
        opType: "Identity",
        domain: "",
        inputs: ["logits_gemm"],
        outputs: ["logits"],
        attrs: {},
      });
    });
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-identity-logits")),
      /^sfprompt run: \S+identity-logits\.yaml: spec\.classes\.newClassifier: the model cannot be split as the job asks \(in sfprompt prepare's flags: the logits "logits" come from a Identity node \("\/logits_identity"\); --num-classes can replace a Gemm or MatMul\(\+Add\) classifier only\)$/m,
    );
  });

  it("names spec.model.source when the model already has a tensor named prompt", () => {
    const file = onModel("prompt-tensor", (m) => {
      m.graph.initializers.set("prompt", { dtype: "float32", dims: [1], data: Float32Array.of(0) });
    });
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-prompt-tensor")),
      /^sfprompt run: \S+prompt-tensor\.yaml: spec\.model\.source: the model cannot be split as the job asks: the model already has a tensor named "prompt", the name of the prompt the splitter inserts; rename that tensor in the model$/m,
    );
  });

  it("names spec.model.split.cutTensors.body when the tail mixes tokens before it selects one", () => {
    // a softmax over the tokens between the final norm and the CLS selection: no tail to move
    const file = onModel("mixed-tail", (m) => {
      const gather = m.graph.nodes.find((n) => n.name === "/Gather");
      assert.ok(gather !== undefined, "the ViT selects its CLS token");
      m.graph.nodes.push({
        name: "/mix",
        opType: "Softmax",
        domain: "",
        inputs: [gather.inputs[0] as string],
        outputs: ["/mix_output_0"],
        attrs: { axis: { kind: "int", value: 1 } },
      });
      gather.inputs = ["/mix_output_0", ...gather.inputs.slice(1)];
    });
    assertUserError(
      sfprompt("run", file, "--out", join(dir, "out-mixed-tail")),
      /^sfprompt run: \S+mixed-tail\.yaml: spec\.model\.split\.cutTensors\.body: the model cannot be split as the job asks \(in sfprompt prepare's flags: node "\/mix" \(Softmax\) .*Cut elsewhere with --cut-tail <tensor>\)$/m,
    );
  });
});
