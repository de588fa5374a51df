// `sfprompt run` on data of the other kind than the job's model takes: images or number features for
// a text model (a BERT-family export with its tokenizer section, or builtin minilm), text for an
// image model. A JSONL file of number features for a text model was refused by every client after
// nats-server and the server had started (a run folder made, 'the server exited ... see
// logs/server.log'), and an image folder only after the run folder and the model bundle were made
// (builtin minilm on a built-in image set is the schema's refusal already). Now all are refused
// before anything starts, naming the field: exit 1, no run folder. The real CLI on real files.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BERT_FIXTURE as BERT, letterVocab } from "../../sfprompt/test/runtime/text-fixture.js";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

/** Lines of JSONL: `n` samples from `sample(i)`, labels 0..9 in turn. */
function jsonl(n: number, sample: (i: number) => Record<string, unknown>): string {
  return (
    Array.from({ length: n }, (_, i) => JSON.stringify({ ...sample(i), label: i % 10 })).join("\n") + "\n"
  );
}

/** A 2×2 binary PGM. */
const PGM = Buffer.concat([Buffer.from("P5\n2 2\n255\n"), Buffer.from([0, 64, 128, 255])]);

describe("sfprompt run on data of the other kind than the model takes", () => {
  let dir = "";
  let vocab = "";
  let imageJob = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-data-kind-"));
    vocab = join(dir, "vocab.txt");
    writeFileSync(vocab, `${letterVocab().join("\n")}\n`);
    writeFileSync(
      join(dir, "features.jsonl"),
      jsonl(40, (i) => ({ x: [i, 1, 2] })),
    );
    writeFileSync(
      join(dir, "texts.jsonl"),
      jsonl(40, (i) => ({ text: `a text ${i}` })),
    );
    // text up to line 30, then number features
    writeFileSync(
      join(dir, "mixed.jsonl"),
      jsonl(40, (i) => (i < 30 ? { text: `a text ${i}` } : { x: [i, 1, 2] })),
    );
    for (let c = 0; c < 10; c++) {
      mkdirSync(join(dir, "images", String(c)), { recursive: true });
      for (let k = 0; k < 4; k++) writeFileSync(join(dir, "images", String(c), `${k}.pgm`), PGM);
    }
    mkdirSync(join(dir, "tiny"));
    imageJob = readFileSync(writeTinyJob(join(dir, "tiny")), "utf8");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A text job on `model` (YAML of spec.model's body) with `data` as spec.data's lines. */
  function textJob(model: string[], data: string[]): string {
    return [
      "apiVersion: sfprompt.io/v1alpha1",
      "kind: SFPromptJob",
      "metadata:",
      "  name: kind",
      "spec:",
      "  model:",
      ...model.map((l) => `    ${l}`),
      "  classes: { numClasses: 10 }",
      "  data:",
      ...data.map((l) => `    ${l}`),
      "  clients: { count: 2 }",
      "  server: { executionProvider: cpu }",
      "  training: { rounds: 1, batchSize: 8, evaluation: { everyRounds: 0 } }",
    ].join("\n");
  }
  const bert = (): string[] => [
    `source: { path: ${JSON.stringify(BERT)} }`,
    "split: { headBlocks: 1, pooling: mean }",
    `tokenizer: { vocabulary: ${JSON.stringify(vocab)}, maxLength: 16 }`,
  ];
  const at = (file: string): string => JSON.stringify(join(dir, file));

  const cases: Array<{ name: string; job: () => string; message: () => RegExp }> = [
    {
      name: "a JSONL file of number features for a text model (BERT export + tokenizer)",
      job: () => textJob(bert(), [`source: { jsonl: { path: ${at("features.jsonl")} } }`]),
      message: () =>
        /: spec\.data\.source: jsonl \S+features\.jsonl:1 holds number features \("x"\), but the model \(spec\.model\.source with spec\.model\.tokenizer\) takes text; give lines with "text": "the text"/,
    },
    {
      name: "a JSONL file of number features for builtin minilm (no model fetched or read)",
      job: () =>
        textJob(["source: { builtin: minilm }"], [`source: { jsonl: { path: ${at("features.jsonl")} } }`]),
      message: () => /: spec\.data\.source: jsonl \S+features\.jsonl:1 holds number features \("x"\)/,
    },
    {
      name: "a JSONL file whose later lines are number features, for a text model",
      job: () => textJob(bert(), [`source: { jsonl: { path: ${at("mixed.jsonl")} } }`]),
      message: () =>
        /: spec\.data\.source: jsonl \S+mixed\.jsonl:31 holds number features \("x"\), but line 1, the file's first sample, holds text \("text"\)/,
    },
    {
      name: "an image folder for a text model",
      job: () => textJob(bert(), [`source: { imageFolder: { path: ${at("images")} } }`]),
      message: () =>
        /: spec\.data\.source: imageFolder holds images, but the model takes text; use text data/,
    },
    {
      name: "a JSONL file of text for an image model",
      job: () =>
        imageJob
          .replace("source: { builtin: mnist }", `source: { jsonl: { path: ${at("texts.jsonl")} } }`)
          .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }"),
      message: () =>
        /: spec\.data\.source: jsonl \S+texts\.jsonl:1 holds text \("text"\), but the model \(spec\.model\.source\) takes images or number features/,
    },
  ];
  for (const [i, c] of cases.entries())
    it(`refuses ${c.name} before anything starts, naming the field (exit 1, no run folder)`, () => {
      const file = join(dir, `job-${i}.yaml`);
      writeFileSync(file, c.job());
      const out = join(dir, `run-${i}`);
      const r = sfprompt("run", file, "--out", out);
      assertUserError(
        r,
        new RegExp(`^sfprompt run: ${file.replaceAll(".", "\\.")}${c.message().source}`, "m"),
      );
      assert.equal(existsSync(out), false, `no run folder: ${r.stdout}`);
      assert.doesNotMatch(r.stderr, /^starting /m, "no process started");
    });
});
