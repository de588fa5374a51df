// Gradient models from writeGradientModel, run in onnxruntime-node, against PyTorch autograd on real
// torch.onnx exports (a torchvision ViT, an HF-style BERT); references are committed, see fixtures/gen.
// Each fixture holds the traced shape and one more (another batch; for BERT another sequence length).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { saveActivationsPaths, writeGradientModel } from "@sfprompt/engine";
import {
  fixtureNames,
  gradientFeeds,
  loadFixture,
  mismatch,
  tensorOf,
  type FixtureCase,
  type TorchFixture,
} from "./torch-reference.js";

/** The bar for float32 gradients against PyTorch. */
const TOL = 1e-3;
/** The export itself must reproduce PyTorch's forward far more tightly. */
const EXPORT_TOL = 1e-5;

type Mode = "recompute" | "save-activations";
type Results = InferenceSession.OnnxValueMapType;

function failuresOf(fixture: TorchFixture, c: FixtureCase, results: Results): string[] {
  const failures: string[] = [];
  for (const e of c.outputs) {
    const m = mismatch(results[e.name], tensorOf(fixture, e), TOL);
    if (m !== null) failures.push(`${c.name}: output ${e.name}: ${m}`);
  }
  for (const g of c.gradients) {
    const m = mismatch(results[`grad_${g.wrt}`], tensorOf(fixture, g), TOL);
    if (m !== null) failures.push(`${c.name}: grad_${g.wrt}: ${m}`);
  }
  return failures;
}

async function withSession<T>(path: string, use: (s: InferenceSession) => Promise<T>): Promise<T> {
  // wrt initializers are graph inputs on purpose; ORT warns about each one below severity 3
  const session = await InferenceSession.create(path, { logSeverityLevel: 3 });
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

for (const name of fixtureNames) {
  test(`the committed ${name} export reproduces PyTorch's outputs in onnxruntime`, async () => {
    const fixture = loadFixture(name);
    const failures = await withSession(fixture.modelPath, async (m) => {
      const found: string[] = [];
      for (const c of fixture.cases) {
        const results = await m.run(Object.fromEntries(c.inputs.map((e) => [e.name, tensorOf(fixture, e)])));
        for (const e of c.outputs) {
          const d = mismatch(results[e.name], tensorOf(fixture, e), EXPORT_TOL);
          if (d !== null) found.push(`${c.name}: ${e.name}: ${d}`);
        }
      }
      return found;
    });
    assert.ok(fixture.cases.length >= 2, "each fixture holds the traced shape and another one");
    assert.deepEqual(failures, []);
  });
}

const expectedOutputs = (f: TorchFixture): string[] => f.cases[0]!.outputs.map((e) => e.name);
const expectedGradOutputs = (f: TorchFixture): string[] => f.wrt.map((w) => `grad_${w}`);

/** recompute: one model G, M's inputs + grad_<O> in, M's outputs + grad_<w> out. */
async function runRecompute(fixture: TorchFixture, out: string): Promise<string[]> {
  return withSession(out, async (g) => {
    const names = [...expectedOutputs(fixture), ...expectedGradOutputs(fixture)];
    assert.deepEqual(g.outputNames, names, "G's outputs: M's outputs, then grad_<w> in wrt order");
    const failures: string[] = [];
    for (const c of fixture.cases) {
      const feeds = gradientFeeds(fixture, c);
      const missing = Object.keys(feeds).filter((n) => !g.inputNames.includes(n));
      assert.deepEqual(missing, [], "G's inputs: M's inputs and grad_<O> for every output O");
      failures.push(...failuresOf(fixture, c, await g.run(feeds)));
    }
    return failures;
  });
}

/** save-activations: the forward model's outputs (M's, then saved activations) feed the backward model. */
async function runSaveActivations(fixture: TorchFixture, out: string): Promise<string[]> {
  const paths = saveActivationsPaths(out);
  return withSession(paths.forward, (f) =>
    withSession(paths.backward, async (b) => {
      assert.deepEqual(f.outputNames.slice(0, expectedOutputs(fixture).length), expectedOutputs(fixture));
      assert.deepEqual(
        b.outputNames,
        expectedGradOutputs(fixture),
        "backward outputs: grad_<w> in wrt order",
      );
      const failures: string[] = [];
      for (const c of fixture.cases) {
        const feeds = gradientFeeds(fixture, c);
        const forward = await f.run(Object.fromEntries(c.inputs.map((e) => [e.name, feeds[e.name]!])));
        const available: Results = { ...feeds, ...forward };
        // wrt initializers not fed keep their defaults; every other input comes from M's feeds or the forward
        const unfed = b.inputNames.filter((n) => available[n] === undefined && !fixture.wrt.includes(n));
        assert.deepEqual(unfed, [], "backward inputs come from the forward's outputs and the gradient feeds");
        const fed = b.inputNames.filter((n) => available[n] !== undefined).map((n) => [n, available[n]!]);
        const grads = await b.run(Object.fromEntries(fed));
        failures.push(...failuresOf(fixture, c, { ...forward, ...grads }));
      }
      return failures;
    }),
  );
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
      const run = c.mode === "recompute" ? runRecompute : runSaveActivations;
      assert.deepEqual(await run(fixture, out), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("the comparison flags every gradient of a gradient model fed a 1% wrong upstream gradient", async () => {
  const fixture = loadFixture("vit");
  const c = fixture.cases[0]!;
  const dir = mkdtempSync(join(tmpdir(), "torch-parity-sensitivity-"));
  try {
    const out = join(dir, "grad.onnx");
    await writeGradientModel({ model: fixture.modelPath, wrt: fixture.wrt, out });
    const feeds = gradientFeeds(fixture, c);
    for (const u of c.upstream) {
      const t = feeds[u.name]!;
      feeds[u.name] = new Tensor(
        "float32",
        (t.data as Float32Array).map((v) => v * 1.01),
        t.dims,
      );
    }
    const results = await withSession(out, (g) => g.run(feeds));
    const flagged = failuresOf(fixture, c, results).map((f) => f.split(":")[1]!.trim());
    // VJPs are linear in the upstream gradient: every gradient is 1% off, the forward outputs are not
    assert.deepEqual(flagged, expectedGradOutputs(fixture));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
