import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ParamSetMismatchError, TensorShapeError } from "../../src/training/errors.js";
import { gradsFromOutputs, paramFeeds, type TensorLike } from "../../src/training/grad-outputs.js";
import { flattenParams } from "../../src/training/param-set.js";
import { randomParams } from "./fixtures.js";

describe("gradient model outputs to a ParamSet", () => {
  const layout = randomParams(1);
  const outputsLike = (): Record<string, TensorLike> => {
    const o: Record<string, TensorLike> = { logits: { data: new Float32Array(4), dims: [2, 2] } };
    for (const [name, t] of layout) o[`grad_${name}`] = { data: t.data.map((v) => 2 * v), dims: t.shape };
    return o;
  };

  it("collects grad_<name> in the layout's order, sharing the output buffers", () => {
    const outputs = outputsLike();
    const grads = gradsFromOutputs(outputs, layout);
    assert.deepEqual([...grads.keys()], [...layout.keys()]);
    assert.deepEqual(
      flattenParams(grads),
      flattenParams(layout).map((v) => 2 * v),
    );
    assert.equal(grads.get("prompt")?.data, outputs["grad_prompt"]?.data);
  });

  it("parameters become feeds keyed by name with dims", () => {
    const feeds = paramFeeds(layout);
    assert.deepEqual(Object.keys(feeds), [...layout.keys()]);
    assert.deepEqual(feeds["tail.weight"]?.dims, layout.get("tail.weight")?.shape);
  });

  const cases: Array<{
    name: string;
    edit: (o: Record<string, TensorLike>) => void;
    error: new (...args: never[]) => Error;
    msg: RegExp;
  }> = [
    {
      name: "a missing gradient names the output and what to regenerate",
      edit: (o) => delete o["grad_tail.bias"],
      error: ParamSetMismatchError,
      msg: /'grad_tail.bias' is missing .* 'tail.bias' in wrt/,
    },
    {
      name: "a gradient of the wrong shape names both shapes",
      edit: (o) => (o["grad_prompt"] = { data: new Float32Array(12), dims: [4, 3] }),
      error: ParamSetMismatchError,
      msg: /\[4, 3\] but parameter 'prompt' is \[3, 4\]/,
    },
    {
      name: "a float64 gradient is refused",
      edit: (o) => (o["grad_prompt"] = { data: new Float64Array(12), dims: [3, 4] }),
      error: TensorShapeError,
      msg: /not float32/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const o = outputsLike();
      c.edit(o);
      assert.throws(
        () => gradsFromOutputs(o, layout),
        (e: unknown) => e instanceof c.error && c.msg.test((e as Error).message),
      );
    });
  }
});
