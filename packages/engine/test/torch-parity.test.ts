// Gradient models from writeGradientModel, run in onnxruntime-node, against PyTorch autograd on real
// torch.onnx exports (a torchvision ViT, an HF-style BERT); references are committed, see fixtures/gen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import { saveActivationsPaths, writeGradientModel } from "@sfprompt/engine";
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
type Results = InferenceSession.OnnxValueMapType;

function failuresOf(fixture: TorchFixture, results: Results): string[] {
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

async function withSession<T>(path: string, use: (s: InferenceSession) => Promise<T>): Promise<T> {
  const session = await InferenceSession.create(path);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

const expectedGradOutputs = (f: TorchFixture): string[] => f.wrt.map((w) => `grad_${w}`);
const expectedOutputs = (f: TorchFixture): string[] => f.outputs.map((e) => e.name);

/** recompute: one model G, M's inputs + grad_<O> in, M's outputs + grad_<w> out. */
async function runRecompute(fixture: TorchFixture, out: string): Promise<Results> {
  return withSession(out, async (g) => {
    const names = [...expectedOutputs(fixture), ...expectedGradOutputs(fixture)];
    assert.deepEqual(g.outputNames, names, "G's outputs: M's outputs, then grad_<w> in wrt order");
    const feeds = gradientFeeds(fixture);
    const missing = Object.keys(feeds).filter((n) => !g.inputNames.includes(n));
    assert.deepEqual(missing, [], "G's inputs: M's inputs and grad_<O> for every output O");
    return g.run(feeds);
  });
}

/** save-activations: the forward model's outputs (M's, then saved activations) feed the backward model. */
async function runSaveActivations(fixture: TorchFixture, out: string): Promise<Results> {
  const paths = saveActivationsPaths(out);
  const feeds = gradientFeeds(fixture);
  const forward = await withSession(paths.forward, async (f) => {
    assert.deepEqual(f.outputNames.slice(0, fixture.outputs.length), expectedOutputs(fixture));
    const inputs = Object.fromEntries(fixture.inputs.map((e) => [e.name, feeds[e.name]!]));
    return f.run(inputs);
  });
  const grads = await withSession(paths.backward, async (b) => {
    assert.deepEqual(b.outputNames, expectedGradOutputs(fixture), "backward outputs: grad_<w> in wrt order");
    const available: Results = { ...feeds, ...forward };
    // wrt initializers not fed keep their defaults; every other input must come from M's feeds or the forward
    const unfed = b.inputNames.filter((n) => available[n] === undefined && !fixture.wrt.includes(n));
    assert.deepEqual(unfed, [], "backward inputs come from the forward's outputs and the gradient feeds");
    return b.run(Object.fromEntries(b.inputNames.filter((n) => available[n]).map((n) => [n, available[n]!])));
  });
  return { ...forward, ...grads };
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
      await writeGradientModel({ model: fixture.modelPath, wrt: fixture.wrt, out, mode: c.mode });
      const results =
        c.mode === "recompute" ? await runRecompute(fixture, out) : await runSaveActivations(fixture, out);
      assert.deepEqual(failuresOf(fixture, results), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
