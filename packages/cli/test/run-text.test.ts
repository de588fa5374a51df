// `sfprompt run --compare` on a text job, end to end as a user runs it: a BERT-family ONNX export (the
// engine's HuggingFace BERT fixture, vocabulary of 100), a WordPiece vocabulary file, the built-in
// debian-sections texts, real processes over a real nats-server; SFPrompt and every baseline train
// on token ids with attention masks, and the exported fine-tuned model takes input_ids + mask.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { GraphSession } from "@sfprompt/engine";
import { RunMetricsSchema } from "../src/run/metrics.js";
import { BERT_FIXTURE as BERT, letterVocab } from "../../sfprompt/test/runtime/text-fixture.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function sfprompt(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 240_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function jobYaml(vocab: string, extra = ""): string {
  return [
    "apiVersion: sfprompt.io/v1alpha1",
    "kind: SFPromptJob",
    "metadata:",
    "  name: text",
    "spec:",
    "  model:",
    `    source: { path: ${JSON.stringify(BERT)} }`,
    "    split: { headBlocks: 1, pooling: mean }",
    `    tokenizer: { vocabulary: ${JSON.stringify(vocab)}, maxLength: 16 }`,
    "  prompts: { length: 4 }",
    "  classes: { numClasses: 10 }",
    "  data:",
    "    source: { builtin: debian-sections }",
    "    partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 24 }",
    "  clients: { count: 2 }",
    "  server: { executionProvider: cpu }",
    "  training: { rounds: 1, batchSize: 8, pruning: { gamma: 0.5 }, evaluation: { maxSamples: 40 } }",
    extra,
  ].join("\n");
}

describe("sfprompt run on a text model", () => {
  let dir = "";
  let vocab = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-text-"));
    vocab = join(dir, "vocab.txt");
    writeFileSync(vocab, `${letterVocab().join("\n")}\n`);
  });

  it("compares SFPrompt with every baseline on token ids, and exports a model that takes input_ids", async () => {
    const job = join(dir, "job.yaml");
    writeFileSync(job, jobYaml(vocab));
    const out = join(dir, "run");
    const r = sfprompt("run", job, "--out", out, "--compare");
    assert.equal(r.code, 0, r.stderr);
    for (const row of [
      "SFPrompt",
      "SFL \\+ prompt",
      "FL \\+ prompt",
      "FL full fine-tuning",
      "centralised prompt tuning",
    ])
      assert.match(r.stdout, new RegExp(`\\| ${row} \\| [\\d.]+ % \\|`), row);
    const m = RunMetricsSchema.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
    assert.equal(m.rounds.length, 1);
    const round = m.rounds[0]!;
    assert.ok((round.bytes.byKind["activation"] ?? 0) > 0 && (round.bytes.byKind["gradient"] ?? 0) > 0);
    assert.ok((round.clientFlops ?? 0) > 0);
    assert.ok(round.accuracy !== null && round.accuracy >= 0 && round.accuracy <= 1);

    const session = await GraphSession.create(join(out, "model", "model.onnx"));
    try {
      const ids = BigInt64Array.from([2n, 10n, 11n, 3n, 0n, 0n]);
      const mask = BigInt64Array.from(ids, (v) => (v === 0n ? 0n : 1n));
      const feeds = {
        input_ids: { dtype: "int64" as const, dims: [1, 6], data: ids },
        attention_mask: { dtype: "int64" as const, dims: [1, 6], data: mask },
        token_type_ids: { dtype: "int64" as const, dims: [1, 6], data: new BigInt64Array(6) },
      };
      const logits = (await session.run(feeds))["logits"];
      assert.deepEqual(logits?.dims, [1, 10]);
    } finally {
      await session.release();
    }
  });

  it("refuses image data for a text model, naming the field", () => {
    const job = join(dir, "images.yaml");
    writeFileSync(job, jobYaml(vocab).replace("builtin: debian-sections", "builtin: digits"));
    const r = sfprompt("run", job, "--out", join(dir, "images"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /spec\.data\.source: builtin: digits holds images, but the model takes text/);
  });
});
