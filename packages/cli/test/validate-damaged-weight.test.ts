// An ONNX file whose inline weight holds fewer bytes than its dims × dtype (a file cut or changed
// inside a weight, its protobuf framing whole) passed sfprompt validate: the model check reads the
// outline, which steps over the weights' bytes, and sfprompt run was refused at the split, after
// "starting", with "has shape [..] but N values" and a hint to export a checkpoint to ONNX. The
// outline pass now checks each raw_data's length (no extra read), and both name the tensor and the
// file. The real CLI on a real ONNX file (the tiny ViT with one weight cut in half).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
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

// A weight kept in its typed field (float_data) with fewer values than its dims, or kept in an external
// file with a range length other than its dims × dtype: the reader padded the first with zeros, and the
// outline pass stepped over both, so validate passed them and the run trained a weight half zero or
// stopped after its start. Both are refused before the start now (ADR 0006 amendment 13).
describe("sfprompt validate with a model whose typed or external weight has another size than its dims", () => {
  let dir = "";
  let tiny = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-validate-typed-weight-"));
    tiny = writeTinyJob(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function modelType(): protobuf.Type {
    const src = readFileSync(
      fileURLToPath(new URL("../../engine/src/proto/onnx-proto-text.ts", import.meta.url)),
      "utf8",
    );
    const text = src.slice(src.indexOf("`") + 1, src.lastIndexOf("`"));
    return protobuf.parse(text, { keepCase: true }).root.lookupType("onnx.ModelProto");
  }

  type Initializer = {
    name: string;
    dims: string[];
    data_type: number;
    raw_data?: Uint8Array;
    float_data?: number[];
    external_data?: Array<{ key: string; value: string }>;
  };

  /** The model file `file` with its first float32 weight of rank 2 changed by `edit`; its name and dims. */
  function edited(file: string, edit: (w: Initializer) => void): { name: string; dims: number[] } {
    const t = modelType();
    const msg = t.toObject(t.decode(readFileSync(file)), { longs: String, bytes: Buffer, arrays: true }) as {
      graph: { initializer: Initializer[] };
    };
    const w = msg.graph.initializer.find((i) => i.data_type === 1 && i.dims.length === 2)!;
    edit(w);
    writeFileSync(file, t.encode(t.fromObject(msg)).finish());
    return { name: w.name, dims: w.dims.map(Number) };
  }

  const cases = [
    {
      name: "float_data of half its values",
      write: (path: string) => {
        writeModel(path, readModel(join(dir, "vit.onnx")));
        return edited(path, (w) => {
          const values = new Float32Array(new Uint8Array(w.raw_data!).buffer);
          w.float_data = Array.from(values.subarray(0, values.length / 2));
          delete w.raw_data;
        });
      },
      detail: (n: number) =>
        `${n} values, but its float_data holds ${n / 2}: the file was cut or changed after it was written`,
    },
    {
      name: "an external range of half its bytes",
      write: (path: string) => {
        writeModel(path, readModel(join(dir, "vit.onnx")), {
          externalData: { location: "typed.bin", threshold: 0 },
        });
        return edited(path, (w) => {
          const length = w.external_data!.find((e) => e.key === "length")!;
          length.value = String(Number(length.value) / 2);
        });
      },
      detail: (n: number) =>
        `${n * 4} bytes, but its external data at location "typed\\.bin" \\(offset \\d+\\) is ${n * 2} bytes long: the data file or the model was cut or changed after it was written`,
    },
  ];

  for (const c of cases)
    it(`names the tensor and the file for ${c.name}: validate exits 1, run before it starts anything`, () => {
      const slug = c.name.replace(/\W+/g, "-");
      mkdirSync(join(dir, slug));
      const model = join(dir, slug, "model.onnx");
      const weight = c.write(model);
      const n = weight.dims.reduce((a, b) => a * b, 1);
      const job = join(dir, `${slug}.yaml`);
      writeFileSync(job, readFileSync(tiny, "utf8").replace(join(dir, "vit.onnx"), model));
      const message = new RegExp(
        `: spec\\.model\\.source\\.path: cannot load ONNX model ${escape(model)}: tensor "${escape(weight.name)}" ` +
          `is float32 \\[${weight.dims.join(",")}\\], ${c.detail(n)}; the file is damaged: copy or export the model again$`,
        "m",
      );
      const v = sfprompt("validate", job);
      assertUserError(v, message);
      const out = join(dir, `out-${slug}`);
      const r = sfprompt("run", job, "--out", out);
      assertUserError(r, message);
      assert.doesNotMatch(r.stderr, /^starting /m, "nothing started");
      assert.equal(existsSync(out), false, "no run folder");
    });
});
