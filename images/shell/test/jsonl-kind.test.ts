// The server and client entry points on jobs whose JSONL data holds the other kind of sample than the
// model takes (real child processes, a real nats-server, real JSONL files, the tiny ViT and BERT
// bundles): text lines for an image model, number features (in x, input or the field
// jsonl.inputField names) for a text model, on the first line or a later one. Each is refused at
// start-up (config.invalid, exit 1) naming the source's field once, the model's field and what to
// change; it said `"input" must be an array of finite numbers` (text for an image model) or `needs
// "text" (a string) or "ids"` (features for a text model), which named neither kind.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { prepareBundle } from "@sfprompt/engine";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { tinyBundle, type BundleFixture } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { BERT_FIXTURE } from "../../../packages/sfprompt/test/runtime/text-fixture.js";
import { ENTRY, expectRefusedAtStart, runConfig, spawnEntry, tempDir, type LogLine } from "./harness.js";

let nats: TestNats;
let imageBundle: BundleFixture;
const tmp = tempDir();
let vocab = "";
let textBundle = "";
let textLines = "";
let featureLines = "";
let pixelLines = "";
let textAmongFeatures = "";
let featuresAmongText = "";
let sentenceLines = "";

/** JSONL lines, one per sample, labels 0 and 1 in turn. */
function jsonl(name: string, sample: (i: number) => Record<string, unknown>): string {
  const lines = Array.from({ length: 8 }, (_, i) => JSON.stringify({ ...sample(i), label: i % 2 }));
  return tmp.write(name, `${lines.join("\n")}\n`);
}

before(async () => {
  nats = await startNatsServer();
  imageBundle = tinyBundle();
  vocab = join(tmp.dir, "vocab.txt");
  writeFileSync(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world"].join("\n") + "\n");
  textBundle = join(tmp.dir, "text-bundle");
  mkdirSync(textBundle);
  prepareBundle({ model: BERT_FIXTURE, out: textBundle, headBlocks: 1, promptLength: 2, numClasses: 10 });
  textLines = jsonl("text.jsonl", (i) => ({ text: i % 2 === 0 ? "hello world" : "world hello" }));
  // the same sentences in a field of the user's naming (jsonl.inputField)
  sentenceLines = jsonl("sentence.jsonl", (i) => ({ sentence: i % 2 === 0 ? "hello world" : "world hello" }));
  const pixels = (i: number): number[] => Array.from({ length: 784 }, (_, k) => (k + i) % 7);
  featureLines = jsonl("features.jsonl", (i) => ({ x: pixels(i) }));
  pixelLines = jsonl("pixels.jsonl", (i) => ({ pixels: pixels(i) }));
  // line 6 (and 7, 8) of the other kind: the first line matches the model, the file does not
  textAmongFeatures = jsonl("text-among-features.jsonl", (i) =>
    i < 5 ? { x: pixels(i) } : { text: "hello" },
  );
  featuresAmongText = jsonl("features-among-text.jsonl", (i) =>
    i < 2 ? { text: "hello" } : { input: pixels(i) },
  );
});
after(async () => {
  await nats.stop();
  imageBundle.remove();
  tmp.remove();
});

const IMAGE_MODEL = { source: { path: "/models/vit.onnx" } };
const TEXT_MODEL = () => ({ source: { path: "/models/bert.onnx" }, tokenizer: { vocabulary: vocab } });

interface Role {
  readonly entry: string;
  readonly env: Record<string, string>;
}
const SERVER: Role = { entry: ENTRY.server, env: { SFPROMPT_LINGER_AFTER_FINISH: "false" } };
const CLIENT: Role = { entry: ENTRY.client, env: { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_CLIENT_COUNT: "2" } };

const cases: {
  name: string;
  role: Role;
  spec: () => Record<string, unknown>;
  /** data.source in place of the harness's built-in one. */
  source?: () => Record<string, unknown>;
  bundle: () => string;
  field: string;
  says: RegExp;
}[] = [
  {
    name: "the client: text lines in data.source for an image model",
    role: CLIENT,
    spec: () => ({ model: IMAGE_MODEL }),
    source: () => ({ jsonl: { path: textLines } }),
    bundle: () => imageBundle.dir,
    field: "spec.data.source",
    says: /text\.jsonl:1 holds text \("text"\), but the model \(spec\.model\.source\) takes images.*; give lines with "x": \[numbers.*or use a text model/,
  },
  {
    name: "the server: text lines in data.evalSource for an image model",
    role: SERVER,
    spec: () => ({
      model: IMAGE_MODEL,
      data: { evalSource: { jsonl: { path: textLines, inputField: "pixels" } } },
    }),
    bundle: () => imageBundle.dir,
    field: "spec.data.evalSource",
    says: /holds text \("text"\), but the model \(spec\.model\.source\) takes images.*; give lines with "pixels": \[numbers/,
  },
  {
    name: "the client: number features in data.source for a text model",
    role: CLIENT,
    spec: () => ({
      model: TEXT_MODEL(),
      classes: { numClasses: 10 },
    }),
    source: () => ({ jsonl: { path: featureLines } }),
    bundle: () => textBundle,
    field: "spec.data.source",
    says: /features\.jsonl:1 holds number features \("x"\), but the model \(spec\.model\.source with spec\.model\.tokenizer\) takes text; give lines with "text"/,
  },
  {
    name: "the server: number features in data.evalSource for a text model",
    role: SERVER,
    spec: () => ({
      model: TEXT_MODEL(),
      classes: { numClasses: 10 },
      data: { source: { builtin: "debian-sections" }, evalSource: { jsonl: { path: featureLines } } },
    }),
    bundle: () => textBundle,
    field: "spec.data.evalSource",
    says: /holds number features \("x"\), but the model .* takes text/,
  },
  {
    name: "the client: number features in the field jsonl.inputField names, for a text model",
    role: CLIENT,
    spec: () => ({ model: TEXT_MODEL(), classes: { numClasses: 10 } }),
    source: () => ({ jsonl: { path: pixelLines, inputField: "pixels" } }),
    bundle: () => textBundle,
    field: "spec.data.source",
    says: /pixels\.jsonl:1 holds number features \("pixels"\), but the model .* takes text; give lines with "pixels": "the text" \(jsonl\.inputField names another field; or "ids", token ids\)/,
  },
  {
    name: "the client: a text line among the number features of an image model's file",
    role: CLIENT,
    spec: () => ({ model: IMAGE_MODEL }),
    source: () => ({ jsonl: { path: textAmongFeatures } }),
    bundle: () => imageBundle.dir,
    field: "spec.data.source",
    says: /text-among-features\.jsonl:6 holds text \("text"\), but line 1, the file's first sample, holds number features \("x"\), which the model \(spec\.model\.source\) takes; one file holds one kind: give line 6 "x" or remove it/,
  },
  {
    name: "the server: a number-features line among the text of a text model's held-out file",
    role: SERVER,
    spec: () => ({
      model: TEXT_MODEL(),
      classes: { numClasses: 10 },
      data: { source: { builtin: "debian-sections" }, evalSource: { jsonl: { path: featuresAmongText } } },
    }),
    bundle: () => textBundle,
    field: "spec.data.evalSource",
    says: /features-among-text\.jsonl:3 holds number features \("input"\), but line 1, the file's first sample, holds text \("text"\)/,
  },
];

describe("JSONL data of the other kind than the model takes", () => {
  for (const [i, c] of cases.entries())
    it(`${c.name}: refused at start-up naming ${c.field} once and the model's field`, async () => {
      const name = `jsonl-kind-${i}`;
      const base = runConfig(c.spec(), name);
      const config = c.source ? { ...base, data: { ...base.data, source: c.source() } } : base;
      const proc = spawnEntry(c.role.entry, [], {
        SFPROMPT_RUN_CONFIG: tmp.write(`${name}.json`, JSON.stringify(config)),
        NATS_URL: nats.url,
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        SFPROMPT_BUNDLE_DIR: c.bundle(),
        SFPROMPT_CACHE_DIR: join(tmp.dir, `cache-${name}`),
        ...c.role.env,
      });
      await expectRefusedAtStart(proc, c.field, c.says);
    });
});

describe("a text model's JSONL text in the field jsonl.inputField names", () => {
  /** The client's client.data line (or its refusal, which fails the test) for `source`. */
  async function clientData(name: string, source: Record<string, unknown>): Promise<LogLine> {
    const base = runConfig({ model: TEXT_MODEL(), classes: { numClasses: 10 } }, name);
    const config = { ...base, data: { ...base.data, source } };
    const proc = spawnEntry(CLIENT.entry, [], {
      SFPROMPT_RUN_CONFIG: tmp.write(`${name}.json`, JSON.stringify(config)),
      NATS_URL: nats.url,
      SFPROMPT_HTTP_HOST: "127.0.0.1",
      SFPROMPT_HTTP_PORT: "0",
      SFPROMPT_BUNDLE_DIR: textBundle,
      SFPROMPT_CACHE_DIR: join(tmp.dir, `cache-${name}`),
      ...CLIENT.env,
    });
    try {
      const line = await proc.waitForLog(
        (l) => l.event === "client.data" || l.event === "config.invalid" || l.event === "runtime.failed",
        60_000,
      );
      assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${proc.stderr()}`);
      return line;
    } finally {
      proc.kill("SIGKILL");
    }
  }

  it('is read as the text: the client takes the samples it takes from the same sentences in "text"', async () => {
    const named = await clientData("jsonl-input-field", {
      jsonl: { path: sentenceLines, inputField: "sentence" },
    });
    const plain = await clientData("jsonl-text-field", { jsonl: { path: textLines } });
    assert.ok(Number(plain.samples) > 0, JSON.stringify(plain));
    assert.equal(named.samples, plain.samples);
    assert.equal(named.classes, plain.classes);
  });
});
