import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/datasets/rng.js";
import { TrainingArgumentError } from "../../src/training/errors.js";
import { defaultFans, initPrompts, normalInit, xavierUniform, zerosInit } from "../../src/training/init.js";

function stats(d: Float32Array): { mean: number; std: number; maxAbs: number } {
  const mean = d.reduce((a, v) => a + v, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / d.length);
  return { mean, std, maxAbs: d.reduce((a, v) => Math.max(a, Math.abs(v)), 0) };
}

describe("xavier-uniform", () => {
  const cases = [
    {
      name: "a [out, in] weight uses fanIn = in and fanOut = out",
      shape: [64, 256],
      bound: Math.sqrt(6 / (256 + 64)),
    },
    {
      name: "a conv weight multiplies the fans by the receptive field",
      shape: [16, 3, 4, 4],
      bound: Math.sqrt(6 / (3 * 16 + 16 * 16)),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: values stay in ±bound with the uniform's std bound/√3`, () => {
      const t = xavierUniform(c.shape, new Rng(1));
      const s = stats(t.data);
      assert.deepEqual(t.shape, c.shape);
      assert.ok(s.maxAbs <= c.bound && s.maxAbs > 0.98 * c.bound);
      assert.ok(Math.abs(s.std - c.bound / Math.sqrt(3)) < 0.05 * c.bound);
      assert.ok(Math.abs(s.mean) < 0.05 * c.bound);
    });
  }

  it("prompts use VPT's fans: the patch embedding's input size and the token width", () => {
    const [P, D, patchFanIn] = [50, 192, 3 * 16 * 16];
    const t = initPrompts(P, D, new Rng(2), patchFanIn);
    const bound = Math.sqrt(6 / (patchFanIn + D));
    assert.deepEqual(t.shape, [P, D]);
    assert.ok(stats(t.data).maxAbs <= bound && stats(t.data).maxAbs > 0.98 * bound);
  });

  it("prompts without a patch embedding use fanIn = D", () => {
    const t = initPrompts(40, 64, new Rng(3));
    const bound = Math.sqrt(6 / 128);
    assert.ok(stats(t.data).maxAbs <= bound && stats(t.data).maxAbs > 0.95 * bound);
  });

  it("the same seed gives the same values, another seed different ones", () => {
    const a = initPrompts(10, 16, new Rng(7));
    assert.deepEqual(initPrompts(10, 16, new Rng(7)).data, a.data);
    assert.notDeepEqual(initPrompts(10, 16, new Rng(8)).data, a.data);
  });

  it("fans of a vector are its length", () => assert.deepEqual(defaultFans([9]), { fanIn: 9, fanOut: 9 }));
  it("zero fans are refused", () => {
    assert.throws(() => xavierUniform([0, 4], new Rng(1)), TrainingArgumentError);
  });
});

describe("zeros and normal", () => {
  it("zeros fills the shape with 0", () => {
    const t = zerosInit([3, 5]);
    assert.deepEqual([t.data.length, t.data.every((v) => v === 0)], [15, true]);
  });
  it("normal(std) has the requested mean and standard deviation", () => {
    const s = stats(normalInit([200, 100], new Rng(4), 0.02, 0.5).data);
    assert.ok(Math.abs(s.mean - 0.5) < 0.001 && Math.abs(s.std - 0.02) < 0.001, JSON.stringify(s));
  });
  it("normal is reproducible from its seed", () => {
    assert.deepEqual(normalInit([50], new Rng(5), 1).data, normalInit([50], new Rng(5), 1).data);
  });
  it("a negative std is refused", () =>
    assert.throws(() => normalInit([2], new Rng(1), -1), TrainingArgumentError));
});
