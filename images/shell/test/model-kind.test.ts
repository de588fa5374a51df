// The server and client entry points on jobs whose model and data are not of one kind (real child
// processes, a real nats-server, the tiny image bundle): each is refused at start-up as
// `sfprompt run` refuses it (config.invalid, exit 1), naming the job's field once. A tokenizer on an
// image model was read before the model: a vocabulary that is not there crashed the process
// (runtime.failed, exit 3, restarted into the same failure), a readable one passed unnoticed.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { prepareBundle } from "@sfprompt/engine";
import { BERT_FIXTURE } from "../../../packages/sfprompt/test/runtime/text-fixture.js";
import { ENTRY, expectRefusedAtStart, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();
let vocab = "";
let textBundle = "";

/** A copy of the tiny ViT's bundle whose manifest says its input is `shape` (batch first). */
function bundleTaking(name: string, shape: (string | number)[]): string {
  const dir = join(w.tmp.dir, name);
  cpSync(w.bundle.dir, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
    inputs: { shape: (string | number)[] }[];
  };
  manifest.inputs[0]!.shape = shape;
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  return dir;
}

before(() => {
  vocab = join(w.tmp.dir, "vocab.txt");
  writeFileSync(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world"].join("\n") + "\n");
  textBundle = join(w.tmp.dir, "text-bundle");
  mkdirSync(textBundle);
  prepareBundle({ model: BERT_FIXTURE, out: textBundle, headBlocks: 1, promptLength: 2, numClasses: 10 });
});

/** A model file of the job (an image ViT, not known to the api as a built-in); the pods get its w.bundle. */
const MODEL = "/models/vit.onnx";

const ROLES: { role: string; entry: string; env: Record<string, string> }[] = [
  { role: "server", entry: ENTRY.server, env: { SFPROMPT_LINGER_AFTER_FINISH: "false" } },
  { role: "client", entry: ENTRY.client, env: { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_CLIENT_COUNT: "2" } },
];

const cases: {
  name: string;
  spec: () => Record<string, unknown>;
  bundle?: () => string;
  field: string;
  says: RegExp;
}[] = [
  {
    name: "text data (builtin debian-sections) for an image model",
    spec: () => ({
      model: { source: { path: MODEL } },
      data: {
        source: { builtin: "debian-sections" },
        partitioning: { strategy: "iid", seed: 1, samplesPerClient: 32 },
      },
    }),
    field: "spec.data.source",
    says: /holds text, but the model takes images/,
  },
  {
    name: "a tokenizer on an image model, its vocabulary readable",
    spec: () => ({ model: { source: { path: MODEL }, tokenizer: { vocabulary: vocab } } }),
    field: "spec.model.tokenizer",
    says: /is set, but the model takes images; remove it/,
  },
  {
    name: "a tokenizer on an image model, its vocabulary not in the container",
    spec: () => ({
      model: { source: { path: MODEL }, tokenizer: { vocabulary: join(w.tmp.dir, "no-vocab.txt") } },
    }),
    field: "spec.model.tokenizer",
    says: /is set, but the model takes images; remove it/,
  },
  {
    name: "a text model whose vocabulary is not in the container",
    spec: () => ({
      model: {
        source: { path: "/models/bert.onnx" },
        tokenizer: { vocabulary: join(w.tmp.dir, "no-vocab.txt") },
      },
      classes: { numClasses: 10 },
      data: {
        source: { builtin: "debian-sections" },
        partitioning: { strategy: "iid", seed: 1, samplesPerClient: 32 },
      },
    }),
    bundle: () => textBundle,
    field: "spec.model.tokenizer.vocabulary",
    says: /no-vocab\.txt: vocabulary file is not readable/,
  },
  {
    name: "image data for a model whose input is not [C, H, W]",
    spec: () => ({ model: { source: { path: MODEL } } }),
    bundle: () => bundleTaking("flat-input", ["batch", 784]),
    field: "spec.model.source",
    says: /the model input takes samples of shape \[784\]; image data needs \[C, H, W\]/,
  },
  {
    name: "image data for a model whose input height and width are symbolic",
    spec: () => ({ model: { source: { path: MODEL } } }),
    bundle: () => bundleTaking("symbolic-input", ["batch", 1, "height", "width"]),
    field: "spec.model.source",
    says: /symbolic sample shape \[1, height, width\]/,
  },
];

describe("a job whose model and data are not of one kind", () => {
  for (const [i, c] of cases.entries())
    for (const r of ROLES)
      it(`${c.name}: the ${r.role} names ${c.field} once`, async () => {
        const name = `kind-${i}-${r.role}`;
        const proc = spawnEntry(r.entry, [], {
          SFPROMPT_RUN_CONFIG: w.tmp.write(`${name}.json`, JSON.stringify(runConfig(c.spec(), name))),
          NATS_URL: w.nats.url,
          SFPROMPT_HTTP_HOST: "127.0.0.1",
          SFPROMPT_HTTP_PORT: "0",
          SFPROMPT_BUNDLE_DIR: c.bundle?.() ?? w.bundle.dir,
          SFPROMPT_CACHE_DIR: join(w.tmp.dir, `cache-${name}`),
          ...r.env,
        });
        await expectRefusedAtStart(proc, c.field, c.says);
      });
});
