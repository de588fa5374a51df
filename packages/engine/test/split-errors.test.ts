// The splitter's errors: what a user meets with a model it cannot cut, and what each message says.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BlockDetectionError,
  CutTensorError,
  ManifestError,
  readPartitionManifest,
  splitModel,
  SplitOptionsError,
  TailRewriteError,
  type Model,
  type SplitOptions,
} from "@sfprompt/engine";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureCase } from "./helpers/split-cases.js";
import { toyVit } from "./helpers/split-models.js";

const unnamed = (): ReturnType<typeof toyVit> => toyVit({ blocks: 2, blockPrefix: "/stage_" });

/** The toy ViT whose block 1 reshapes with the batch size read from the raw input's shape. */
function blockReadsInput(): Model {
  const { model } = toyVit({ blocks: 2 });
  const g = model.graph;
  const add = g.nodes.find((n) => n.name === "/blocks.1/Add") as Model["graph"]["nodes"][number];
  const x = add.inputs[0] as string;
  g.initializers.set("/blocks.1/fix/tail_dims", {
    dtype: "int64",
    dims: [2],
    data: BigInt64Array.of(-1n, 8n),
  });
  g.nodes.push(
    {
      name: "/blocks.1/fix/Concat",
      opType: "Concat",
      domain: "",
      inputs: ["/Slice_output_0", "/blocks.1/fix/tail_dims"],
      outputs: ["/blocks.1/fix/shape"],
      attrs: { axis: { kind: "int", value: 0 } },
    },
    {
      name: "/blocks.1/fix/Reshape",
      opType: "Reshape",
      domain: "",
      inputs: [x, "/blocks.1/fix/shape"],
      outputs: ["/blocks.1/fix/x"],
      attrs: {},
    },
  );
  add.inputs = ["/blocks.1/fix/x", add.inputs[1] as string];
  return model;
}

/** The toy ViT with a softmax over tokens between its final norm and the CLS selection. */
function mixesTokens(): Model {
  const { model } = toyVit({ blocks: 2 });
  const g = model.graph;
  const gather = g.nodes.find(
    (n) => n.opType === "Gather" && n.name === "/Gather",
  ) as Model["graph"]["nodes"][number];
  const normed = gather.inputs[0] as string;
  g.nodes.push({
    name: "/mix",
    opType: "Softmax",
    domain: "",
    inputs: [normed],
    outputs: ["/mix_output_0"],
    attrs: { axis: { kind: "int", value: 1 } },
  });
  gather.inputs = ["/mix_output_0", gather.inputs[1] as string];
  return model;
}

const cases: {
  name: string;
  model: () => ReturnType<typeof toyVit>["model"];
  options: SplitOptions;
  error: new (...args: never[]) => Error;
  says: RegExp[];
}[] = [
  {
    name: "a model whose blocks are not found names the searched patterns and suggests --cut-head/--cut-tail",
    model: () => unnamed().model,
    options: { headBlocks: 1, promptLength: 2 },
    error: BlockDetectionError,
    says: [
      /no transformer blocks found/,
      /encoder_layer_3/,
      /\/bert\/encoder\/layer\.3/,
      /blocks\.3/,
      /--cut-head/,
      /--cut-tail/,
    ],
  },
  {
    name: "--head-blocks equal to the number of blocks leaves the body empty",
    model: () => fixtureCase("vit").model,
    options: { headBlocks: 2, promptLength: 1 },
    error: SplitOptionsError,
    says: [/--head-blocks 2/, /has 2 blocks/, /0\.\.1/],
  },
  {
    name: "a negative --head-blocks is refused",
    model: () => fixtureCase("bert").model,
    options: { headBlocks: -1, promptLength: 1 },
    error: SplitOptionsError,
    says: [/--head-blocks must be a whole number/],
  },
  {
    name: "an unknown --cut-head tensor is named, with examples of real names",
    model: () => fixtureCase("bert").model,
    options: { headBlocks: 1, promptLength: 1, cutHead: "/bert/encoder/layer.7/output" },
    error: CutTensorError,
    says: [
      /--cut-head "\/bert\/encoder\/layer\.7\/output" is not a tensor/,
      /tensor names look like: .*LayerNorm/,
    ],
  },
  {
    name: "an unknown --cut-tail tensor is named",
    model: () => unnamed().model,
    options: { headBlocks: 0, promptLength: 0, cutHead: "/stage_0/Add_1_output_0", cutTail: "nope" },
    error: CutTensorError,
    says: [/--cut-tail "nope" is not a tensor/],
  },
  {
    name: "cuts in the wrong order are refused",
    model: () => unnamed().model,
    options: {
      headBlocks: 0,
      promptLength: 0,
      cutHead: "/stage_1/Add_1_output_0",
      cutTail: "/stage_0/Add_1_output_0",
    },
    error: CutTensorError,
    says: [/is not computed from the head cut/],
  },
  {
    name: "a tail that mixes tokens before selecting one names the node and suggests --cut-tail",
    model: mixesTokens,
    options: { headBlocks: 1, promptLength: 1 },
    error: TailRewriteError,
    says: [/node "\/mix" \(Softmax\)/, /does not act on each token alone/, /--cut-tail/],
  },
  {
    name: "a body that would read the raw model input (for a shape) is refused, naming the input",
    model: blockReadsInput,
    options: { headBlocks: 1, promptLength: 0 },
    error: CutTensorError,
    says: [/the body would read the model input "patches"/, /must stay on the client/],
  },
  {
    name: "with prompts, an input that reaches the blocks besides the embeddings is refused, naming it",
    model: blockReadsInput,
    options: { headBlocks: 1, promptLength: 2 },
    error: CutTensorError,
    says: [/input "patches" reaches the blocks both through the embeddings and directly/, /attention_mask/],
  },
  {
    name: "K = 0 with CLS pooling asks for --pooling mean",
    model: () => fixtureCase("vit").model,
    options: { headBlocks: 0, promptLength: 2 },
    error: SplitOptionsError,
    says: [/--head-blocks 0 needs --pooling mean/],
  },
  {
    name: "a one-class classifier is refused",
    model: () => fixtureCase("vit").model,
    options: { headBlocks: 1, promptLength: 2, numClasses: 1 },
    error: SplitOptionsError,
    says: [/--num-classes must be a whole number ≥ 2/],
  },
];

for (const c of cases) {
  test(c.name, () => {
    assert.throws(
      () => splitModel(c.model(), c.options),
      (e: Error) => {
        assert.ok(e instanceof c.error, `${e.name}: ${e.message}`);
        for (const re of c.says) assert.match(e.message, re);
        return true;
      },
    );
  });
}

/** How the engine points to prepare's flags, which it does not know (ADR 0017 amendment 29). */
const FLAGS = "(the model file and its split as flags: sfprompt prepare --help)";

test("reading a directory without a manifest, or with a malformed one, says which and what to do", () => {
  const dir = mkdtempSync(join(tmpdir(), "sfp-manifest-"));
  try {
    assert.throws(
      () => readPartitionManifest(dir),
      (e: Error) =>
        e instanceof ManifestError &&
        e.message ===
          `cannot read ${join(dir, "manifest.json")}: prepare the bundle with sfprompt prepare into ${dir} first ${FLAGS}`,
    );
    // cut short: read, but no JSON; said as such (not "cannot read … first"), and its problem alone
    // for the callers that give their own fix (a cached or resumed bundle)
    writeFileSync(join(dir, "manifest.json"), '{"format": "sfprompt.partition-bundle", "vers');
    const path = join(dir, "manifest.json");
    assert.throws(
      () => readPartitionManifest(dir),
      (e: Error) =>
        e instanceof ManifestError &&
        e.message.startsWith(`${path} is not JSON (`) &&
        e.message.endsWith(`: prepare the bundle with sfprompt prepare into ${dir} again ${FLAGS}`) &&
        /^.+ is not JSON \([^)]+\)$/.test(e.problem) &&
        e.message === `${e.problem}: prepare the bundle with sfprompt prepare into ${dir} again ${FLAGS}`,
    );
    writeFileSync(
      join(dir, "manifest.json"),
      JSON.stringify({ format: "sfprompt.partition-bundle", version: 1 }),
    );
    assert.throws(
      () => readPartitionManifest(dir),
      (e: Error) =>
        e instanceof ManifestError &&
        /is not a partition manifest: source/.test(e.message) &&
        e.problem === e.message,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
