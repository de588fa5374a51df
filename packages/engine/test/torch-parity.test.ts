// Gradient models from writeGradientModel, run in onnxruntime-node, against PyTorch autograd on real
// torch.onnx exports (a torchvision ViT, an HF-style BERT); references are committed, see fixtures/gen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import * as engine from "@sfprompt/engine";
import {
  fixtureNames,
  gradientFeeds,
  loadFixture,
  mismatch,
  tensorOf,
  type TorchFixture,
} from "./torch-reference.js";

/** The bar for float32 gradients against PyTorch. */
const TOL = 1e-3;
/** The export itself must reproduce PyTorch's forward far more tightly. */
const EXPORT_TOL = 1e-5;

type Mode = "recompute" | "save-activations";
type WriteGradientModel = (opts: { model: string; wrt: string[]; out: string; mode?: Mode }) => Promise<void>;

function writeGradientModel(): WriteGradientModel {
  const fn = (engine as Record<string, unknown>).writeGradientModel;
  assert.equal(typeof fn, "function", "@sfprompt/engine does not export writeGradientModel yet");
  return fn as WriteGradientModel;
}

function failuresOf(fixture: TorchFixture, results: InferenceSession.OnnxValueMapType): string[] {
  const failures: string[] = [];
  for (const e of fixture.outputs) {
    const m = mismatch(results[e.name], tensorOf(fixture, e), TOL);
    if (m !== null) failures.push(`output ${e.name}: ${m}`);
  }
  for (const g of fixture.gradients) {
    const m = mismatch(results[`grad_${g.wrt}`], tensorOf(fixture, g), TOL);
    if (m !== null) failures.push(`grad_${g.wrt}: ${m}`);
  }
  return failures;
}

const exportCases = fixtureNames.map((name) => ({
  name: `the committed ${name} export reproduces PyTorch's outputs in onnxruntime`,
  fixture: name,
}));

for (const c of exportCases) {
  test(c.name, async () => {
    const fixture = loadFixture(c.fixture);
    const session = await InferenceSession.create(fixture.modelPath);
    try {
      const feeds = Object.fromEntries(fixture.inputs.map((e) => [e.name, tensorOf(fixture, e)]));
      const results = await session.run(feeds);
      const failures = fixture.outputs
        .map((e) => [e.name, mismatch(results[e.name], tensorOf(fixture, e), EXPORT_TOL)] as const)
        .filter(([, m]) => m !== null);
      assert.deepEqual(failures, []);
    } finally {
      await session.release();
    }
  });
}

const modes: Mode[] = ["recompute", "save-activations"];
const parityCases = fixtureNames.flatMap((name) =>
  modes.map((mode) => ({
    name: `the ${mode} gradient model of the ${name} export matches PyTorch autograd to ${TOL}`,
    fixture: name,
    mode,
  })),
);

for (const c of parityCases) {
  test(c.name, async () => {
    const fixture = loadFixture(c.fixture);
    const dir = mkdtempSync(join(tmpdir(), `torch-parity-${c.fixture}-`));
    try {
      const out = join(dir, "grad.onnx");
      await writeGradientModel()({ model: fixture.modelPath, wrt: fixture.wrt, out, mode: c.mode });
      const session = await InferenceSession.create(out);
      try {
        const outputs = [...fixture.outputs.map((e) => e.name), ...fixture.wrt.map((w) => `grad_${w}`)];
        assert.deepEqual(
          session.outputNames,
          outputs,
          "G's outputs: M's outputs, then grad_<w> in wrt order",
        );
        const inputs = [...fixture.inputs, ...fixture.upstream].map((e) => e.name);
        assert.deepEqual(
          inputs.filter((n) => !session.inputNames.includes(n)),
          [],
          "G's inputs: M's inputs and grad_<O> for every output O",
        );
        const results = await session.run(gradientFeeds(fixture));
        assert.deepEqual(failuresOf(fixture, results), []);
      } finally {
        await session.release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
