import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../../src/datasets/rng.js";
import { ParamSetCodecError, ParamSetMismatchError } from "../../src/training/errors.js";
import type { OptimizerConfig } from "../../src/training/optimizer-config.js";
import { decodeOptimizerState, encodeOptimizerState } from "../../src/training/optimizer-state-codec.js";
import {
  cloneOptimizerState,
  initOptimizerState,
  optimizerStepInPlace,
} from "../../src/training/optimizer.js";
import { encodeParamSet } from "../../src/training/param-set-codec.js";
import { cloneParams, paramsAllClose, type ParamSet } from "../../src/training/param-set.js";
import { randomParams } from "./fixtures.js";

function randomGrads(rng: Rng, like: ParamSet): ParamSet {
  const g = cloneParams(like);
  for (const t of g.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = 2 * rng.next() - 1;
  return g;
}

const configs: Array<{ name: string; config: OptimizerConfig }> = [
  { name: "SGD with momentum", config: { kind: "sgd", lr: 0.1, momentum: 0.9 } },
  { name: "SGD without momentum (no buffers)", config: { kind: "sgd", lr: 0.1 } },
  { name: "Adam", config: { kind: "adam", lr: 0.01 } },
  { name: "AdamW", config: { kind: "adamw", lr: 0.01 } },
];

describe("optimizer state checkpoint and resume", () => {
  for (const c of configs) {
    it(`${c.name}: resuming from decoded state continues exactly like the uninterrupted run`, () => {
      const rng = new Rng(1);
      const params = randomParams(31, 4, 6, 3);
      const state = initOptimizerState(c.config, params);
      for (let i = 0; i < 3; i++) optimizerStepInPlace(c.config, params, randomGrads(rng, params), state);

      const bytes = encodeOptimizerState(state);
      const resumed = decodeOptimizerState(bytes, { config: c.config, params, source: "checkpoint" });
      assert.equal(resumed.step, 3);
      assert.deepEqual(Object.keys(resumed.slots), Object.keys(state.slots));

      const paramsA = cloneParams(params);
      const paramsB = cloneParams(params);
      const stateA = cloneOptimizerState(state);
      for (let i = 0; i < 2; i++) {
        const g = randomGrads(rng, params);
        optimizerStepInPlace(c.config, paramsA, g, stateA);
        optimizerStepInPlace(c.config, paramsB, g, resumed);
      }
      assert.ok(paramsAllClose(paramsA, paramsB, { atol: 0, rtol: 0 }));
    });
  }

  const params = randomParams(32);
  const adamBytes = encodeOptimizerState(initOptimizerState({ kind: "adam", lr: 1 }, params));
  const cases: Array<{
    name: string;
    run: () => unknown;
    error: new (...args: never[]) => Error;
    msg: RegExp;
  }> = [
    {
      name: "state saved by Adam is refused for an SGD job",
      run: () => decodeOptimizerState(adamBytes, { config: { kind: "sgd", lr: 1 } }),
      error: ParamSetMismatchError,
      msg: /saved by 'adam' but the job uses 'sgd'/,
    },
    {
      name: "state saved for more prompt tokens is refused, naming the parameter",
      run: () => decodeOptimizerState(adamBytes, { params: randomParams(32, 7) }),
      error: ParamSetMismatchError,
      msg: /'prompt'/,
    },
    {
      name: "a plain parameter set is not optimizer state",
      run: () => decodeOptimizerState(encodeParamSet(params)),
      error: ParamSetCodecError,
      msg: /not optimizer state/,
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.throws(c.run, (e: unknown) => e instanceof c.error && c.msg.test((e as Error).message)),
    );
  }
});
