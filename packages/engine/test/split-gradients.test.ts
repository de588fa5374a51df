// Every gradient graph of a bundle against central finite differences through ORT (head prompt VJP,
// body input VJP in both variants, tail, local-path and whole-model loss gradients), and the chain
// gradient tail -> body -> head against the gradient of the whole prompted model's loss (grad/full).
import { test } from "node:test";
import assert from "node:assert/strict";
import { i64, LABELS, PROMPT, type SplitOptions, type Tensor } from "@sfprompt/engine";
import { fixtureCase, writeCaseBundle, type Bundle, type ModelCase } from "./helpers/split-cases.js";
import { toyBert, toyVit } from "./helpers/split-models.js";
import { Rng } from "./helpers/random.js";
import {
  dot,
  fdCheck,
  randomLike,
  relErr,
  runChain,
  runner,
  runOn,
  values,
  type Env,
} from "./helpers/split-run.js";

const EPS = 1e-2;
const TOL = 2e-2;

const toy = (m: { model: ModelCase["model"]; feeds: ModelCase["feeds"] }): ModelCase => ({
  ...m,
  source: "toy.onnx",
});

const cases: { name: string; make: () => ModelCase; options: SplitOptions }[] = [
  {
    name: "a built ViT (K = 1, P = 2, C = 3)",
    make: () => toy(toyVit({ blocks: 2 })),
    options: { headBlocks: 1, promptLength: 2, numClasses: 3 },
  },
  {
    name: "a built ViT that averages tokens after its final norm (K = 1, P = 2, C = 3)",
    make: () => toy(toyVit({ blocks: 2, selection: "mean" })),
    options: { headBlocks: 1, promptLength: 2, numClasses: 3 },
  },
  {
    name: "a built ViT with a decomposed final LayerNorm in its tail (K = 1, P = 2, C = 3)",
    make: () => toy(toyVit({ blocks: 2, finalNorm: "decomposed" })),
    options: { headBlocks: 1, promptLength: 2, numClasses: 3 },
  },
  {
    name: "a built opset-14 ViT, every LayerNorm decomposed (K = 1, P = 2, C = 3)",
    make: () => toy(toyVit({ blocks: 2, opset: 14 })),
    options: { headBlocks: 1, promptLength: 2, numClasses: 3 },
  },
  {
    name: "a built opset-18 ViT with a decomposed final norm (K = 1, P = 2, C = 3)",
    make: () => toy(toyVit({ blocks: 2, opset: 18, finalNorm: "decomposed" })),
    options: { headBlocks: 1, promptLength: 2, numClasses: 3 },
  },
  {
    name: "a built BERT with an additive mask (K = 1, P = 2, C = 3)",
    make: () => toy(toyBert({ blocks: 2, mask: "additive" })),
    options: { headBlocks: 1, promptLength: 2, numClasses: 3 },
  },
  {
    name: "the ViT export (K = 1, P = 2, C = 4)",
    make: () => fixtureCase("vit"),
    options: { headBlocks: 1, promptLength: 2, numClasses: 4 },
  },
  {
    name: "the BERT export (K = 0, P = 2, C = 3, mean pooling)",
    make: () => fixtureCase("bert"),
    options: { headBlocks: 0, promptLength: 2, numClasses: 3, pooling: "mean" },
  },
];

/** Mean softmax cross-entropy, computed here in float64 as the independent reference of the loss. */
function crossEntropy(logits: Tensor, labels: readonly number[]): number {
  const [b, c] = logits.dims as [number, number];
  const v = values(logits);
  let total = 0;
  for (let r = 0; r < b; r++) {
    const row = Array.from(v.slice(r * c, (r + 1) * c));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    total += lse - (row[labels[r] as number] as number);
  }
  return total / b;
}

interface Ctx {
  readonly bundle: Bundle;
  readonly feeds: Env;
  readonly labels: number[];
  readonly forward: Env;
  readonly initial: Env;
}

async function withCase(c: (typeof cases)[number], body: (ctx: Ctx) => Promise<void>): Promise<void> {
  const mc = c.make();
  const bundle = writeCaseBundle(mc, c.options);
  try {
    const batch = (Object.values(mc.feeds)[0] as Tensor).dims[0] as number;
    const labels = Array.from({ length: batch }, (_, i) => (i * 2 + 1) % bundle.manifest.numClasses);
    const feeds = { ...mc.feeds, [LABELS]: i64([batch], labels) };
    const initial: Env = {};
    for (const p of bundle.manifest.parameters)
      initial[p.name] = bundle.split.prompted.graph.initializers.get(p.name) as Tensor;
    const forward = await runChain(
      bundle.manifest.partitions.map((p) => bundle.file(p.file)),
      feeds,
    );
    await body({ bundle, feeds, labels, forward, initial });
  } finally {
    bundle.remove();
  }
}

function assertFd(res: { sampleError: number; directionError: number }, what: string): void {
  assert.ok(res.sampleError < TOL, `${what}: sampled-element error ${res.sampleError}`);
  assert.ok(res.directionError < TOL, `${what}: directional error ${res.directionError}`);
}

for (const c of cases) {
  test(`${c.name}: the head graph gives the prompt gradient of <head output, r>`, async () => {
    await withCase(c, async ({ bundle, feeds, forward, initial }) => {
      const g = bundle.manifest.gradients.head;
      assert.ok(g !== null);
      const aH = bundle.manifest.activations.head;
      const r = randomLike(new Rng(3), forward[aH] as Tensor);
      const out = await runOn(bundle.file(g.file), { ...feeds, [g.upstream[aH] as string]: r });
      assert.ok(
        relErr(out[aH] as Tensor, forward[aH] as Tensor) < 1e-6,
        "the head graph reproduces the head output",
      );
      const head = await runner(bundle.file(bundle.manifest.partitions[0]?.file as string));
      try {
        const res = await fdCheck({
          f: async (theta) => dot((await head.run({ ...feeds, ...theta }))[aH] as Tensor, r),
          theta: { [PROMPT]: initial[PROMPT] as Tensor },
          grads: { [PROMPT]: values(out[g.gradients[PROMPT] as string]) },
          eps: EPS,
        });
        assertFd(res, "prompt");
      } finally {
        await head.release();
      }
    });
  });

  test(`${c.name}: the body graphs give the input gradient, recompute and save-activations alike`, async () => {
    await withCase(c, async ({ bundle, feeds, forward }) => {
      const m = bundle.manifest;
      const [aH, aB] = [m.activations.head, m.activations.body];
      const g = m.gradients.body.recompute;
      assert.deepEqual(g.wrt, [aH]);
      const r = randomLike(new Rng(4), forward[aB] as Tensor);
      const env = { ...forward, ...feeds, [g.upstream[aB] as string]: r };
      const out = await runOn(bundle.file(g.file), env);
      const grad = out[g.gradients[aH] as string] as Tensor;
      const sa = m.gradients.body.saveActivations;
      const fwd = await runOn(bundle.file(sa.forward.file), env);
      for (const s of sa.saved) assert.ok(fwd[s] !== undefined, `the forward returns saved activation ${s}`);
      const back = await runOn(bundle.file(sa.backward.file), { ...env, ...fwd });
      assert.ok(
        relErr(back[sa.gradients[aH] as string] as Tensor, grad) < 1e-5,
        "save-activations equals recompute",
      );
      const body = await runner(bundle.file(m.partitions[1]?.file as string));
      try {
        const res = await fdCheck({
          f: async (theta) => dot((await body.run({ ...env, ...theta }))[aB] as Tensor, r),
          theta: { [aH]: forward[aH] as Tensor },
          grads: { [aH]: values(grad) },
          eps: EPS,
        });
        assertFd(res, aH);
      } finally {
        await body.release();
      }
    });
  });

  for (const path of ["tail", "local", "full"] as const) {
    test(`${c.name}: the ${path} graph gives the loss, logits and parameter gradients from labels`, async () => {
      await withCase(c, async ({ bundle, feeds, labels, forward, initial }) => {
        const m = bundle.manifest;
        const g = m.gradients[path];
        assert.ok(g !== null && m.full !== null, "the bundle has the whole-model graphs");
        const files = { tail: m.partitions[2]?.file as string, local: m.local.file, full: m.full.file };
        const model = bundle.file(files[path]);
        const env = { ...feeds, ...forward };
        const out = await runOn(bundle.file(g.file), env);
        const logits = (await runOn(model, env))[m.logits] as Tensor;
        assert.ok(
          relErr(out[g.logits] as Tensor, logits) < 1e-6,
          "the gradient graph's logits match the partition's",
        );
        const loss = values(out[g.loss])[0] as number;
        assert.ok(
          Math.abs(loss - crossEntropy(logits, labels)) < 1e-5,
          `loss ${loss} is the mean cross-entropy`,
        );
        const theta: Env = {};
        const grads: Record<string, Float64Array> = {};
        for (const w of g.wrt) {
          theta[w] = (initial[w] ?? forward[w]) as Tensor;
          grads[w] = values(out[g.gradients[w] as string]);
        }
        if (path === "tail")
          assert.ok(g.wrt.includes(m.activations.body), "the tail differentiates its input");
        else assert.ok(g.wrt.includes(PROMPT), "the local path trains the prompt");
        const partition = await runner(model);
        try {
          const res = await fdCheck({
            f: async (t) => crossEntropy((await partition.run({ ...env, ...t }))[m.logits] as Tensor, labels),
            theta,
            grads,
            eps: EPS,
          });
          assertFd(res, path);
        } finally {
          await partition.release();
        }
      });
    });
  }

  test(`${c.name}: the chain gradient tail -> body -> head equals the whole prompted model's`, async () => {
    await withCase(c, async ({ bundle, feeds, forward }) => {
      const m = bundle.manifest;
      const [aH, aB] = [m.activations.head, m.activations.body];
      const tail = await runOn(bundle.file(m.gradients.tail.file), { ...feeds, ...forward });
      const gB = tail[m.gradients.tail.gradients[aB] as string] as Tensor;
      const body = m.gradients.body.recompute;
      const gH = (
        await runOn(bundle.file(body.file), { ...feeds, ...forward, [body.upstream[aB] as string]: gB })
      )[body.gradients[aH] as string] as Tensor;
      const head = m.gradients.head;
      assert.ok(head !== null);
      const gP = (await runOn(bundle.file(head.file), { ...feeds, [head.upstream[aH] as string]: gH }))[
        head.gradients[PROMPT] as string
      ] as Tensor;
      const params = m.parameters.map((p) => p.name);
      const full = m.gradients.full;
      assert.ok(full !== null);
      assert.deepEqual(full.wrt, params);
      const ref = await runOn(bundle.file(full.file), feeds);
      assert.ok(
        Math.abs((values(ref[full.loss])[0] as number) - (values(tail[m.gradients.tail.loss])[0] as number)) <
          1e-5,
      );
      const err = relErr(gP, ref[full.gradients[PROMPT] as string] as Tensor);
      assert.ok(err < 1e-4, `prompt gradient relative error ${err}`);
      for (const p of params.filter((n) => n !== PROMPT)) {
        const e = relErr(
          tail[m.gradients.tail.gradients[p] as string] as Tensor,
          ref[full.gradients[p] as string] as Tensor,
        );
        assert.ok(e < 1e-4, `${p} gradient relative error ${e}`);
      }
    });
  });
}
