import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/datasets/rng.js";
import { ParamSetMismatchError, TensorShapeError } from "../../src/training/errors.js";
import {
  addParams,
  axpyParams,
  cloneParams,
  flattenParams,
  l2Norm,
  paramCount,
  paramSet,
  paramsAllClose,
  scaleParams,
  unflattenParams,
  zerosLike,
  type ParamSet,
} from "../../src/training/param-set.js";
import { maxAbsDiff, randomParams, randomTensor } from "./fixtures.js";

function values(p: ParamSet, name: string): number[] {
  return [...(p.get(name)?.data ?? [])];
}

describe("ParamSet arithmetic", () => {
  const a = randomParams(1);
  const b = randomParams(2);

  const elementwise: Array<{ name: string; got: () => ParamSet; want: (x: number, y: number) => number }> = [
    { name: "add sums element by element", got: () => addParams(a, b), want: (x, y) => x + y },
    { name: "scale multiplies every element", got: () => scaleParams(a, -2.5), want: (x) => -2.5 * x },
    { name: "axpy computes alpha·x + y", got: () => axpyParams(0.3, a, b), want: (x, y) => 0.3 * x + y },
    { name: "zerosLike keeps the layout with zero values", got: () => zerosLike(a), want: () => 0 },
    { name: "clone copies the values", got: () => cloneParams(a), want: (x) => x },
  ];
  for (const c of elementwise) {
    it(c.name, () => {
      const out = c.got();
      assert.deepEqual([...out.keys()], [...a.keys()]);
      for (const [name, t] of a) {
        const want = values(a, name).map((x, i) => Math.fround(c.want(x, values(b, name)[i] as number)));
        assert.ok(maxAbsDiff(values(out, name), want) < 1e-6, name);
        assert.deepEqual(out.get(name)?.shape, t.shape);
      }
    });
  }

  it("operations leave their inputs untouched and share no buffers", () => {
    const before = flattenParams(a);
    const out = addParams(a, b);
    out.get("prompt")?.data.fill(9);
    assert.deepEqual(flattenParams(a), before);
  });

  it("l2Norm is the square root of the sum of squares over every tensor", () => {
    const flat = [...flattenParams(a)];
    assert.ok(Math.abs(l2Norm(a) - Math.sqrt(flat.reduce((s, v) => s + v * v, 0))) < 1e-9);
  });

  it("flatten then unflatten restores names, shapes and values", () => {
    const flat = flattenParams(a);
    assert.equal(flat.length, paramCount(a));
    const back = unflattenParams(flat, a);
    assert.ok(paramsAllClose(back, a, { atol: 0, rtol: 0 }));
    assert.deepEqual(
      [...back].map(([n, t]) => [n, t.shape]),
      [...a].map(([n, t]) => [n, t.shape]),
    );
  });

  it("unflatten rejects a vector of the wrong length", () => {
    assert.throws(() => unflattenParams(new Float32Array(3), a), TensorShapeError);
  });
});

describe("ParamSet validation", () => {
  const rng = new Rng(5);
  const cases: Array<{
    name: string;
    run: () => unknown;
    error: new (...args: never[]) => Error;
    param?: string;
  }> = [
    {
      name: "a tensor whose data does not fill its shape is rejected",
      run: () => paramSet([["w", { data: new Float32Array(5), shape: [2, 3] }]]),
      error: TensorShapeError,
    },
    {
      name: "a duplicated name is rejected",
      run: () =>
        paramSet([
          ["w", randomTensor(rng, [2])],
          ["w", randomTensor(rng, [2])],
        ]),
      error: ParamSetMismatchError,
      param: "w",
    },
    {
      name: "adding sets with different shapes names the parameter",
      run: () => addParams(randomParams(1, 3, 4), randomParams(1, 2, 4)),
      error: ParamSetMismatchError,
      param: "prompt",
    },
    {
      name: "adding sets where one lacks a parameter names it",
      run: () => addParams(randomParams(1), paramSet([...randomParams(1)].slice(0, 2))),
      error: ParamSetMismatchError,
      param: "tail.bias",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(c.run, (err: unknown) => {
        assert.ok(err instanceof c.error, String(err));
        if (c.param) assert.equal((err as ParamSetMismatchError).param, c.param);
        return true;
      });
    });
  }
});

describe("paramsAllClose", () => {
  const a = randomParams(3);
  const nudged = (delta: number): ParamSet => {
    const c = cloneParams(a);
    const d = c.get("tail.bias")?.data as Float32Array;
    d[0] = (d[0] as number) + delta;
    return c;
  };
  const cases = [
    { name: "identical sets are close", b: cloneParams(a), tol: {}, want: true },
    { name: "a difference inside atol is close", b: nudged(1e-4), tol: { atol: 1e-3, rtol: 0 }, want: true },
    {
      name: "a difference beyond atol and rtol is not close",
      b: nudged(1e-2),
      tol: { atol: 1e-3, rtol: 0 },
      want: false,
    },
    { name: "a NaN is never close", b: nudged(NaN), tol: { atol: 1 }, want: false },
    { name: "a different layout is not close", b: randomParams(3, 2), tol: {}, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(paramsAllClose(a, c.b, c.tol), c.want));
});
