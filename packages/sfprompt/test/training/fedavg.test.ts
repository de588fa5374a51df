import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AggregationError, TrainingArgumentError } from "../../src/training/errors.js";
import {
  checkQuorum,
  fedAvg,
  FedAvgAccumulator,
  quorumNeeded,
  type ClientUpload,
  type Quorum,
} from "../../src/training/fedavg.js";
import {
  cloneParams,
  flattenParams,
  paramSet,
  paramsAllClose,
  type ParamSet,
} from "../../src/training/param-set.js";
import { maxAbsDiff, randomParams } from "./fixtures.js";

const uploads = (counts: number[]): ClientUpload[] =>
  counts.map((samples, k) => ({ clientId: `client-${k}`, params: randomParams(50 + k), samples }));

/** Σ n_k · p_k / Σ n_k over the flattened sets, in float64. */
function referenceAverage(us: ClientUpload[]): number[] {
  const total = us.reduce((a, u) => a + u.samples, 0);
  const flats = us.map((u) => flattenParams(u.params));
  return [...(flats[0] as Float32Array)].map(
    (_, i) => us.reduce((a, u, k) => a + u.samples * ((flats[k] as Float32Array)[i] as number), 0) / total,
  );
}

describe("FedAvg weighting", () => {
  const cases = [
    { name: "clients weigh in proportion to their sample counts", counts: [10, 30, 60] },
    { name: "equal counts give the plain mean", counts: [5, 5, 5, 5] },
    { name: "a client with zero samples does not move the average", counts: [7, 0, 3] },
    { name: "a single client's parameters come back unchanged", counts: [12] },
    { name: "very unequal counts keep the small client's share", counts: [1, 100000] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const us = uploads(c.counts);
      const got = fedAvg(us);
      assert.deepEqual([...got.keys()], [...us[0]!.params.keys()]);
      assert.ok(maxAbsDiff(flattenParams(got), referenceAverage(us)) < 1e-6);
    });
  }

  it("the streaming accumulator equals the batch average in any arrival order", () => {
    const us = uploads([3, 9, 4, 11]);
    const acc = new FedAvgAccumulator();
    for (const u of [...us].reverse()) acc.add(u);
    assert.equal(acc.clients, 4);
    assert.equal(acc.totalSamples, 27);
    assert.ok(paramsAllClose(acc.result(), fedAvg(us), { atol: 1e-7, rtol: 0 }));
  });

  it("the inputs are left untouched", () => {
    const us = uploads([1, 2]);
    const before = us.map((u) => cloneParams(u.params));
    fedAvg(us);
    us.forEach((u, k) => assert.ok(paramsAllClose(u.params, before[k] as ParamSet, { atol: 0, rtol: 0 })));
  });
});

describe("FedAvg errors name the client and parameter", () => {
  const good = (id: string): ClientUpload => ({ clientId: id, params: randomParams(1), samples: 5 });
  const withBias = (bias: Float32Array): ParamSet => {
    const p = cloneParams(randomParams(1));
    p.set("tail.bias", { data: bias, shape: [bias.length] });
    return p;
  };
  const cases: Array<{
    name: string;
    us: ClientUpload[];
    layout?: ParamSet;
    client: string;
    param?: string;
    msg: RegExp;
  }> = [
    {
      name: "a client with another prompt count",
      us: [good("a"), { clientId: "b", params: randomParams(1, 5), samples: 5 }],
      client: "b",
      param: "prompt",
      msg: /'prompt' has shape \[5, 4\] in client 'b' but \[3, 4\]/,
    },
    {
      name: "a client missing the tail bias",
      us: [good("a"), { clientId: "b", params: paramSet([...randomParams(1)].slice(0, 2)), samples: 5 }],
      client: "b",
      param: "tail.bias",
      msg: /lacks parameter 'tail.bias'/,
    },
    {
      name: "a client that does not match the server's layout even when it uploads first",
      us: [{ clientId: "c", params: randomParams(1, 2), samples: 5 }],
      layout: randomParams(1),
      client: "c",
      param: "prompt",
      msg: /client 'c'/,
    },
    {
      name: "a client whose training diverged",
      us: [good("a"), { clientId: "d", params: withBias(Float32Array.from([0, NaN])), samples: 5 }],
      client: "d",
      param: "tail.bias",
      msg: /'tail.bias' holds NaN at index 1/,
    },
    { name: "a client uploading twice", us: [good("a"), good("a")], client: "a", msg: /uploaded twice/ },
    { name: "a negative sample count", us: [{ ...good("e"), samples: -1 }], client: "e", msg: /-1 samples/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(
        () => fedAvg(c.us, c.layout),
        (e: unknown) =>
          e instanceof AggregationError &&
          e.clientId === c.client &&
          e.param === c.param &&
          c.msg.test(e.message),
      );
    });
  }

  it("no uploads at all is refused", () => assert.throws(() => fedAvg([]), TrainingArgumentError));
  it("uploads that all weigh 0 are refused", () => {
    assert.throws(() => fedAvg([{ ...good("a"), samples: 0 }]), TrainingArgumentError);
  });
});

describe("quorum", () => {
  const cases: Array<{ name: string; selected: number; q: Quorum; received: number; needed: number }> = [
    { name: "half of 8 clients needs 4", selected: 8, q: { fraction: 0.5 }, received: 4, needed: 4 },
    { name: "a fraction rounds up", selected: 5, q: { fraction: 0.5 }, received: 2, needed: 3 },
    { name: "a tiny fraction still needs one", selected: 3, q: { fraction: 0.01 }, received: 0, needed: 1 },
    { name: "0.3 of 10 needs 3, not 4", selected: 10, q: { fraction: 0.3 }, received: 3, needed: 3 },
    { name: "a count is taken as is", selected: 8, q: { count: 6 }, received: 7, needed: 6 },
    {
      name: "a count above the selection waits for all selected",
      selected: 3,
      q: { count: 6 },
      received: 3,
      needed: 3,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(checkQuorum(c.received, c.selected, c.q), {
        needed: c.needed,
        received: c.received,
        met: c.received >= c.needed,
      });
    });
  }
  const bad: Array<{ name: string; selected: number; q: Quorum }> = [
    { name: "both fraction and count is refused", selected: 4, q: { fraction: 0.5, count: 2 } },
    { name: "neither fraction nor count is refused", selected: 4, q: {} },
    { name: "a fraction above 1 is refused", selected: 4, q: { fraction: 1.5 } },
    { name: "no selected clients is refused", selected: 0, q: { count: 1 } },
  ];
  for (const c of bad)
    it(c.name, () => assert.throws(() => quorumNeeded(c.selected, c.q), TrainingArgumentError));
});
