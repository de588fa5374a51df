// `sfprompt prepare` end to end: the real process splits a committed torch.onnx export, and the bundle
// it writes is read back through its manifest and run as a chain in ORT.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { GraphSession, f32, i64, readPartitionManifest, type Tensor } from "@sfprompt/engine";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const VIT = fileURLToPath(new URL("../../engine/test/fixtures/torch/vit/model.onnx", import.meta.url));

function sfprompt(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000, // a hang (a recursive mkdir under /proc) fails the case instead of the file
    killSignal: "SIGKILL",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

type Env = Record<string, Tensor>;

/** Runs each file fed by name from `env` (model inputs, parameters' defaults, earlier outputs). */
async function chain(files: readonly string[], inputs: Env): Promise<Env> {
  const env: Env = { ...inputs };
  for (const f of files) {
    const s = await GraphSession.create(f);
    try {
      const feeds: Env = {};
      for (const n of s.inputNames) if (env[n] !== undefined) feeds[n] = env[n];
      Object.assign(env, await s.run(feeds));
    } finally {
      await s.release();
    }
  }
  return env;
}

const pixels = f32(
  [2, 3, 32, 32],
  Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37)),
);

describe("sfprompt prepare", () => {
  it("writes a bundle whose manifest runs as a chain to logits, and whose loss graph takes labels", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-prepare-"));
    try {
      const r = sfprompt(
        "prepare",
        "--model",
        VIT,
        "--head-blocks",
        "1",
        "--prompt-length",
        "2",
        "--num-classes",
        "3",
        "--out",
        dir,
      );
      assert.equal(r.code, 0, r.stderr);
      const event = JSON.parse(r.stdout.trim()) as { event: string; blocks: number };
      assert.equal(event.event, "prepare.written");
      assert.equal(event.blocks, 2);
      const m = readPartitionManifest(dir);
      assert.deepEqual(
        m.partitions.map((p) => p.name),
        ["head", "body", "tail"],
      );
      const env = await chain(
        m.partitions.map((p) => join(dir, p.file)),
        { pixel_values: pixels },
      );
      assert.deepEqual(env[m.activations.head]?.dims, [2, 17 + 2, 64]);
      assert.deepEqual(env[m.activations.body]?.dims, [2, 64]);
      assert.deepEqual(env[m.logits]?.dims, [2, 3]);
      const tail = await chain([join(dir, m.gradients.tail.file)], {
        ...env,
        [m.labels.name]: i64([2], [0, 2]),
      });
      assert.equal(tail[m.gradients.tail.loss]?.dims.length, 0);
      assert.deepEqual(
        Array.from(tail[m.gradients.tail.logits]?.data as Float32Array),
        Array.from(env[m.logits]?.data as Float32Array),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with --prompt-length 0 and no --num-classes, the chain reproduces the original logits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-prepare-"));
    try {
      const r = sfprompt(
        "prepare",
        "--model",
        VIT,
        "--head-blocks",
        "1",
        "--prompt-length",
        "0",
        "--no-full",
        "--out",
        dir,
      );
      assert.equal(r.code, 0, r.stderr);
      const m = readPartitionManifest(dir);
      assert.equal(m.gradients.head, null, "no prompt, no head gradient");
      assert.equal(m.full, null);
      assert.equal(m.gradients.full, null);
      assert.ok(!existsSync(join(dir, "full.onnx")), "--no-full writes no whole model");
      const env = await chain(
        m.partitions.map((p) => join(dir, p.file)),
        { pixel_values: pixels },
      );
      const original = await chain([VIT], { pixel_values: pixels });
      const [a, b] = [env[m.logits]?.data as Float32Array, original["logits"]?.data as Float32Array];
      assert.equal(a.length, b.length);
      assert.ok(a.every((v, i) => Math.abs(v - (b[i] as number)) < 1e-4));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const failures = [
    {
      name: "a missing --out is a usage error",
      args: ["--model", VIT, "--head-blocks", "1", "--prompt-length", "2"],
      code: 2,
      says: /--out is required/,
    },
    {
      name: "a non-number --prompt-length is a usage error",
      args: ["--model", VIT, "--head-blocks", "1", "--prompt-length", "two", "--out", "x"],
      code: 2,
      says: /--prompt-length must be a whole number/,
    },
    {
      name: "a --head-blocks in hex is a usage error",
      // --out under a file: were it taken, nothing is written into the checkout
      args: ["--model", VIT, "--head-blocks", "0x1", "--prompt-length", "1", "--out", `${VIT}/bundle`],
      code: 2,
      says: /--head-blocks must be a whole number ≥ 0 \(got "0x1"\)/,
    },
    {
      name: "an --out that cannot be created (in /proc) is named instead of hanging",
      args: [
        "--model",
        VIT,
        "--head-blocks",
        "1",
        "--prompt-length",
        "1",
        "--out",
        "/proc/sfprompt-prepare-test",
      ],
      code: 1,
      says: /--out \/proc\/sfprompt-prepare-test: cannot be created \(ENOENT\); give another --out/,
    },
    {
      name: "an --out under a file is named",
      args: ["--model", VIT, "--head-blocks", "1", "--prompt-length", "1", "--out", `${VIT}/bundle`],
      code: 1,
      says: /--out \S+model\.onnx\/bundle: cannot be created \(ENOTDIR\)/,
    },
    {
      name: "too many head blocks is a user error without a stack",
      args: ["--model", VIT, "--head-blocks", "2", "--prompt-length", "1", "--out", "x"],
      code: 1,
      says: /leaves no block for the body/,
    },
    {
      name: "an unknown cut tensor is a user error naming it",
      args: [
        "--model",
        VIT,
        "--head-blocks",
        "1",
        "--prompt-length",
        "1",
        "--cut-tail",
        "nope",
        "--out",
        "x",
      ],
      code: 1,
      says: /--cut-tail "nope" is not a tensor/,
    },
  ];
  it("leaves no folder behind when the split fails, also none of the folders above --out it made", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-prepare-"));
    try {
      const out = join(dir, "bundles", "vit", "bundle");
      const r = sfprompt(
        "prepare",
        "--model",
        VIT,
        "--head-blocks",
        "2",
        "--prompt-length",
        "1",
        "--out",
        out,
      );
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(readdirSync(dir), [], "the folders it made are removed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names --model, and says to export one, when the file is no ONNX model", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-prepare-"));
    try {
      const pt = join(dir, "vit.pt");
      writeFileSync(pt, "PK\u0003\u0004 a torch.save archive");
      const r = sfprompt(
        "prepare",
        "--model",
        pt,
        "--head-blocks",
        "1",
        "--prompt-length",
        "1",
        "--out",
        join(dir, "b"),
      );
      assert.equal(r.code, 1, r.stderr);
      const said = r.stderr.trim();
      assert.ok(said.startsWith(`sfprompt prepare: --model: cannot load ONNX model ${pt}: `), said);
      assert.ok(
        said.endsWith(
          "; give the path of an ONNX model file (a PyTorch, safetensors or TensorFlow checkpoint is not one: export it to ONNX first, e.g. with torch.onnx.export)",
        ),
        said,
      );
      assert.deepEqual(readdirSync(dir), ["vit.pt"], "no bundle folder is left");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const f of failures) {
    it(f.name, () => {
      const r = sfprompt("prepare", ...f.args);
      assert.equal(r.code, f.code, r.stderr);
      assert.match(r.stderr, f.says);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    });
  }
});
