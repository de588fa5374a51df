// Seeded PRNG, Gamma and Dirichlet samplers: determinism, and sample moments against theory.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Rng,
  deriveSeed,
  sampleDirichlet,
  sampleGamma,
  sampleNormal,
  sampleSymmetricDirichlet,
} from "@sfprompt/core";

function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = draw();
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

describe("Rng", () => {
  it("gives the same stream for the same seed and a different one for another seed", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 16 }, () => a.nextUint32());
    const sb = Array.from({ length: 16 }, () => b.nextUint32());
    const sc = Array.from({ length: 16 }, () => c.nextUint32());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
  });

  it("derives distinct seeds for distinct parts and equal seeds for equal parts", () => {
    assert.equal(deriveSeed(7, 1, 2), deriveSeed(7, 1, 2));
    const seen = new Set([
      deriveSeed(7),
      deriveSeed(7, 0),
      deriveSeed(7, 1),
      deriveSeed(7, 0, 1),
      deriveSeed(8, 0),
    ]);
    assert.equal(seen.size, 5);
  });

  it("draws uniforms in [0, 1) with mean 1/2 and variance 1/12", () => {
    const rng = new Rng(1);
    let min = 1;
    let max = 0;
    const m = moments(() => {
      const v = rng.next();
      min = Math.min(min, v);
      max = Math.max(max, v);
      return v;
    }, 200_000);
    assert.ok(min >= 0 && max < 1, `range [${min}, ${max}]`);
    assert.ok(Math.abs(m.mean - 0.5) < 0.005, `mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - 1 / 12) < 0.002, `variance ${m.variance}`);
  });

  it("permutes 0..n-1 and hits every value of int(n) about equally often", () => {
    const rng = new Rng(3);
    const perm = rng.permutation(1000);
    assert.deepEqual(
      Array.from(perm).sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]! += 1;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c}`);
  });

  it("rejects seeds that are not safe integers", () => {
    assert.throws(() => new Rng(1.5), { name: "DatasetArgumentError" });
  });
});

describe("distributions", () => {
  it("draws standard normals with mean 0 and variance 1", () => {
    const rng = new Rng(5);
    const m = moments(() => sampleNormal(rng), 100_000);
    assert.ok(Math.abs(m.mean) < 0.02, `mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - 1) < 0.02, `variance ${m.variance}`);
  });

  const gammaCases = [
    { shape: 0.1, scale: 1 },
    { shape: 0.5, scale: 2 },
    { shape: 1, scale: 1 },
    { shape: 2.5, scale: 0.5 },
    { shape: 10, scale: 3 },
  ];
  for (const { shape, scale } of gammaCases) {
    it(`matches Gamma(${shape}, ${scale}) mean k·θ and variance k·θ² within sampling error`, () => {
      const rng = new Rng(11);
      const n = 60_000;
      const m = moments(() => sampleGamma(rng, shape, scale), n);
      const mean = shape * scale;
      const variance = shape * scale * scale;
      // 5 standard errors of the mean; the variance estimate is looser (heavy tails for small k).
      assert.ok(Math.abs(m.mean - mean) < 5 * Math.sqrt(variance / n), `mean ${m.mean} vs ${mean}`);
      assert.ok(Math.abs(m.variance - variance) / variance < 0.1, `variance ${m.variance} vs ${variance}`);
    });
  }

  it("matches Dirichlet means α_i/α₀ and variances α_i(α₀-α_i)/(α₀²(α₀+1))", () => {
    const alpha = [0.3, 1, 2.7];
    const a0 = alpha.reduce((a, b) => a + b, 0);
    const rng = new Rng(17);
    const n = 40_000;
    const sum = [0, 0, 0];
    const sumSq = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const p = sampleDirichlet(rng, alpha);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      p.forEach((v, j) => {
        sum[j]! += v;
        sumSq[j]! += v * v;
      });
    }
    alpha.forEach((a, j) => {
      const mean = sum[j]! / n;
      const variance = sumSq[j]! / n - mean * mean;
      const expectedVar = (a * (a0 - a)) / (a0 * a0 * (a0 + 1));
      assert.ok(Math.abs(mean - a / a0) < 5 * Math.sqrt(expectedVar / n), `mean[${j}] ${mean} vs ${a / a0}`);
      assert.ok(
        Math.abs(variance - expectedVar) / expectedVar < 0.05,
        `var[${j}] ${variance} vs ${expectedVar}`,
      );
    });
  });

  it("gives valid simplex points for tiny concentrations where Gamma draws underflow", () => {
    const rng = new Rng(19);
    for (let i = 0; i < 1000; i++) {
      const p = sampleSymmetricDirichlet(rng, 0.001, 10);
      assert.ok(p.every((v) => Number.isFinite(v) && v >= 0));
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    }
  });
});
