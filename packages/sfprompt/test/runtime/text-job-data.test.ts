// Text jobs' data as the processes read it: the job's WordPiece vocabulary turns the built-in
// debian-sections texts (or JSONL "text" lines) into [CLS] … [SEP] id rows padded with [PAD]; a model
// and data of different kinds are refused before anything runs, naming the field.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareBundle } from "@sfprompt/engine";
import {
  DEBIAN_SECTIONS_CLASSES,
  PartitionBundle,
  WordPieceTokenizer,
  checkJobInputs,
  datasetSize,
  isTextJob,
  jobTextEncoding,
  loadClientData,
  loadEvalData,
} from "@sfprompt/core";
import { tinyBundle, type BundleFixture } from "./bundle-fixture.js";
import { jobConfig } from "./job-fixture.js";
import { BERT_FIXTURE as BERT } from "./text-fixture.js";

const VOCAB = fileURLToPath(new URL("../fixtures/wordpiece/vocab.txt", import.meta.url));

let dir: string;
let vit: BundleFixture;
let text: PartitionBundle;
let image: PartitionBundle;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "sfprompt-text-data-"));
  prepareBundle({ model: BERT, out: dir, headBlocks: 1, promptLength: 2, pooling: "mean", numClasses: 10 });
  text = PartitionBundle.load(dir);
  vit = tinyBundle();
  image = PartitionBundle.load(vit.dir);
});
after(() => {
  vit.remove();
  rmSync(dir, { recursive: true, force: true });
});

function textJob(spec: Record<string, unknown> = {}) {
  return jobConfig({
    model: { source: { path: BERT }, tokenizer: { vocabulary: VOCAB, maxLength: 24 } },
    classes: { numClasses: 10 },
    data: { source: { builtin: "debian-sections" }, partitioning: { strategy: "iid", samplesPerClient: 40 } },
    ...spec,
  });
}

test("the built-in texts become id rows of the job's maxLength: [CLS] first, [SEP] after the last piece, [PAD] after", async () => {
  const config = textJob();
  const enc = await jobTextEncoding(config);
  assert.ok(enc !== undefined);
  assert.equal(enc.seqLen, 24);
  assert.equal(enc.padId, 0);
  const tok = await WordPieceTokenizer.fromVocabFile(VOCAB);
  const held = await loadEvalData(config, text);
  assert.ok(held !== undefined);
  assert.deepEqual(held.classNames, DEBIAN_SECTIONS_CLASSES);
  assert.deepEqual(held.sampleShape, [24]);
  assert.ok(held.x instanceof BigInt64Array);
  const shard = await loadClientData(config, text, 2);
  assert.equal(datasetSize(shard), 40);
  const row = Array.from(held.x.subarray(0, 24), Number);
  const sep = row.indexOf(tok.sepId);
  assert.equal(row[0], tok.clsId);
  assert.ok(sep > 1, "at least one word piece");
  assert.ok(row.slice(sep + 1).every((id) => id === tok.padId));
  assert.ok(row.slice(1, sep).every((id) => id !== tok.padId && id !== tok.unkId));
});

test("JSONL text lines are tokenized with the same vocabulary", async () => {
  const path = join(dir, "texts.jsonl");
  writeFileSync(
    path,
    ['{"text": "GNU Emacs editor", "label": "text"}', '{"text": "network daemon", "label": "net"}'].join(
      "\n",
    ),
  );
  const config = textJob({
    classes: { numClasses: 2, labels: ["net", "text"] },
    data: {
      source: { jsonl: { path } },
      evalSource: { jsonl: { path } },
      partitioning: { strategy: "none" },
    },
  });
  const held = await loadEvalData(config, text);
  const tok = await WordPieceTokenizer.fromVocabFile(VOCAB);
  const want = tok.encode("GNU Emacs editor", 24);
  assert.deepEqual(Array.from(held!.x.subarray(0, want.length), Number), Array.from(want));
  assert.deepEqual(Array.from(held!.labels), [1, 0]);
});

test("model and data of different kinds are refused before anything runs, naming the field", () => {
  assert.equal(
    isTextJob(
      jobConfig({
        model: { source: { builtin: "minilm" } },
        data: { source: { builtin: "debian-sections" } },
      }),
    ),
    true,
  );
  assert.equal(isTextJob(jobConfig()), false);
  const cases: Array<[string, () => void, RegExp]> = [
    [
      "a text model without a tokenizer",
      () => checkJobInputs(jobConfig(), text),
      /spec\.model\.tokenizer: is missing/,
    ],
    [
      "a tokenizer on an image model",
      () => checkJobInputs(textJob(), image),
      /spec\.model\.tokenizer: is set/,
    ],
    [
      "image data for a text model",
      () => checkJobInputs(textJob({ data: { source: { builtin: "mnist" } } }), text),
      /spec\.data\.source: builtin: mnist holds images, but the model takes text/,
    ],
    [
      "text data for an image model",
      // an image model from a file: the API refuses debian-sections with the built-in demo model itself
      () =>
        checkJobInputs(
          jobConfig({
            model: { source: { path: "/models/vit.onnx" } },
            data: { source: { builtin: "debian-sections" } },
          }),
          image,
        ),
      /spec\.data\.source: builtin: debian-sections holds text, but the model takes images/,
    ],
    [
      "an image folder as the held-out set of a text job",
      () =>
        checkJobInputs(
          textJob({
            data: { source: { builtin: "debian-sections" }, evalSource: { imageFolder: { path: "/x" } } },
          }),
          text,
        ),
      /spec\.data\.evalSource: imageFolder holds images/,
    ],
  ];
  for (const [name, run, message] of cases) assert.throws(run, message, name);
  checkJobInputs(textJob(), text);
  checkJobInputs(jobConfig(), image);
});

test("a vocabulary whose [PAD] is not id 0 is refused, naming it", async () => {
  const path = join(dir, "pad-last.txt");
  writeFileSync(path, ["[UNK]", "[CLS]", "[SEP]", "a", "[PAD]"].join("\n"));
  const config = textJob({ model: { source: { path: BERT }, tokenizer: { vocabulary: path } } });
  await assert.rejects(jobTextEncoding(config), /spec\.model\.tokenizer\.vocabulary: has \[PAD\] at id 4/);
});
