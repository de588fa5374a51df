// `sfprompt run` on a user's own data, as a new user tries a job locally before a cluster: a JSONL
// file of features and an image folder (PGM files), each with its held-out set of the same kind. The
// local processes refused every source but the built-in sets ("sfprompt run reads built-in datasets
// only") after nats-server and the server had started. A real run: the CLI, nats-server, server and
// client processes, real ONNX sessions, real files.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadBuiltinDataset, type Dataset } from "@sfprompt/core";
import { assertUserError, readRunMetrics, sfprompt, writeTinyJob } from "./run-helpers.js";

const SIDE = 28;

/** The first `n` samples of `ds` (28×28 grayscale in [0, 1]) as pixel rows and labels. */
function samplesOf(ds: Dataset<Float32Array>, n: number): Array<{ x: number[]; label: number }> {
  const size = SIDE * SIDE;
  return Array.from({ length: n }, (_, i) => ({
    x: Array.from(ds.x.subarray(i * size, (i + 1) * size), (v) => Math.round(v * 255) / 255),
    label: ds.labels[i] ?? 0,
  }));
}

function writeJsonl(file: string, samples: ReturnType<typeof samplesOf>): void {
  writeFileSync(file, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
}

/** <dir>/<label>/<i>.pgm (binary P5), one file per sample. */
function writeFolder(dir: string, samples: ReturnType<typeof samplesOf>): void {
  samples.forEach((s, i) => {
    mkdirSync(join(dir, String(s.label)), { recursive: true });
    const header = Buffer.from(`P5\n${SIDE} ${SIDE}\n255\n`);
    const pixels = Buffer.from(s.x.map((v) => Math.round(v * 255)));
    writeFileSync(join(dir, String(s.label), `${i}.pgm`), Buffer.concat([header, pixels]));
  });
}

/** The tiny job of run-helpers with `data` in place of its built-in MNIST. */
function jobWithData(dir: string, name: string, data: string[]): string {
  const tiny = readFileSync(
    writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 40 } }"),
    "utf8",
  );
  const lines = tiny.split("\n");
  const start = lines.indexOf("  data:");
  lines.splice(start, 3, "  data:", ...data.map((l) => `    ${l}`));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, lines.join("\n").replace("name: tiny", `name: ${name}`));
  return file;
}

describe("sfprompt run on the user's own data", () => {
  let dir = "";
  let train: ReturnType<typeof samplesOf> = [];
  let test: ReturnType<typeof samplesOf> = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cli-own-data-"));
    train = samplesOf(await loadBuiltinDataset("mnist", { split: "train" }), 60);
    test = samplesOf(await loadBuiltinDataset("mnist", { split: "test" }), 40);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    {
      name: "a JSONL file split IID between the clients (the strategy's default on one machine)",
      write: (d: string): string[] => {
        writeJsonl(join(d, "train.jsonl"), train);
        writeJsonl(join(d, "test.jsonl"), test);
        return [
          `source: { jsonl: { path: ${JSON.stringify(join(d, "train.jsonl"))} } }`,
          `evalSource: { jsonl: { path: ${JSON.stringify(join(d, "test.jsonl"))} } }`,
        ];
      },
      // 2 clients, iid: each keeps half of the file's lines
      perClient: (n: number): number => n / 2,
      warns: false,
    },
    {
      name: "a JSONL file whose held-out set is the same file through a link (said on stderr)",
      write: (d: string): string[] => {
        writeJsonl(join(d, "train.jsonl"), train);
        symlinkSync(join(d, "train.jsonl"), join(d, "held-out.jsonl"));
        return [
          `source: { jsonl: { path: ${JSON.stringify(join(d, "train.jsonl"))} } }`,
          `evalSource: { jsonl: { path: ${JSON.stringify(join(d, "held-out.jsonl"))} } }`,
        ];
      },
      perClient: (n: number): number => n / 2,
      warns: true,
    },
    {
      name: "an image folder that every client uses whole (strategy none)",
      write: (d: string): string[] => {
        writeFolder(join(d, "train"), train);
        writeFolder(join(d, "test"), test);
        return [
          `source: { imageFolder: { path: ${JSON.stringify(join(d, "train"))} } }`,
          `evalSource: { imageFolder: { path: ${JSON.stringify(join(d, "test"))} } }`,
          "partitioning: { strategy: none }",
        ];
      },
      perClient: (n: number): number => n,
      warns: false,
    },
  ];

  for (const c of cases) {
    it(`trains a round on ${c.name}`, () => {
      const d = mkdtempSync(join(dir, "case-"));
      const job = jobWithData(d, "own", c.write(d));
      const out = join(d, "out");
      const r = sfprompt("run", job, "--out", out);
      assert.equal(r.code, 0, r.stderr);
      const m = readRunMetrics(out);
      assert.deepEqual(
        m.rounds.map((x) => x.round),
        [1],
      );
      const [round] = m.rounds;
      assert.equal(round?.shardSamples, c.perClient(train.length), "each client's share of the user's data");
      assert.equal(typeof round?.accuracy, "number", "the held-out set was evaluated");
      const warning =
        /warning: spec\.data\.evalSource \(\S+\) is the training data of spec\.data\.source \(\S+\): .*point spec\.data\.evalSource at a held-out set/;
      if (c.warns) assert.match(r.stderr, warning);
      else assert.doesNotMatch(r.stderr, /is the training data/);
    });
  }

  const refusals = [
    {
      name: "a JSONL file that is not on this machine",
      data: (d: string): string[] => {
        writeJsonl(join(d, "test.jsonl"), test);
        return [
          `source: { jsonl: { path: ${JSON.stringify(join(d, "gone.jsonl"))} } }`,
          `evalSource: { jsonl: { path: ${JSON.stringify(join(d, "test.jsonl"))} } }`,
        ];
      },
      says: /spec\.data\.source\.jsonl\.path: \S+gone\.jsonl does not exist on this machine; .*give the path/,
    },
    {
      name: "a relative JSONL path that is not in the current folder",
      data: (d: string): string[] => {
        writeJsonl(join(d, "test.jsonl"), test);
        return [
          "source: { jsonl: { path: data/train.jsonl } }",
          `evalSource: { jsonl: { path: ${JSON.stringify(join(d, "test.jsonl"))} } }`,
        ];
      },
      says: /spec\.data\.source\.jsonl\.path: data\/train\.jsonl does not exist on this machine \(a relative path is taken from the current folder, \S+\)/,
    },
    {
      name: "a held-out image folder that is a file",
      data: (d: string): string[] => {
        writeJsonl(join(d, "train.jsonl"), train);
        writeFileSync(join(d, "test.png"), "");
        return [
          `source: { jsonl: { path: ${JSON.stringify(join(d, "train.jsonl"))} } }`,
          `evalSource: { imageFolder: { path: ${JSON.stringify(join(d, "test.png"))} } }`,
        ];
      },
      says: /spec\.data\.evalSource\.imageFolder\.path: \S+test\.png is not a folder/,
    },
    {
      // each client would have started, read the file and refused the split on its own
      name: "a JSONL file of fewer lines than the job has clients (an unset strategy splits it)",
      data: (d: string): string[] => {
        writeJsonl(join(d, "train.jsonl"), train.slice(0, 1));
        writeJsonl(join(d, "test.jsonl"), test);
        return [
          `source: { jsonl: { path: ${JSON.stringify(join(d, "train.jsonl"))} } }`,
          `evalSource: { jsonl: { path: ${JSON.stringify(join(d, "test.jsonl"))} } }`,
        ];
      },
      says: /: spec\.clients\.count: is 2, but the training data \(spec\.data\.source\) holds 1 sample: every client needs one at least; set spec\.clients\.count to 1 or less, or use more data; sfprompt run splits the JSONL file \S+train\.jsonl among the clients on this machine \(iid, as spec\.data\.partitioning\.strategy is unset\): spec\.data\.partitioning\.strategy none gives every client all of it\n/,
    },
    {
      name: "an image folder too small for Dirichlet's 10 samples per client",
      data: (d: string): string[] => {
        writeFolder(join(d, "train"), train.slice(0, 15));
        writeFolder(join(d, "test"), test);
        return [
          `source: { imageFolder: { path: ${JSON.stringify(join(d, "train"))} } }`,
          `evalSource: { imageFolder: { path: ${JSON.stringify(join(d, "test"))} } }`,
          "partitioning: { strategy: dirichlet, alpha: 0.5 }",
        ];
      },
      says: /: spec\.clients\.count: is 2, but strategy dirichlet \(spec\.data\.partitioning\) gives every client 10 samples at least and the training data \(spec\.data\.source\) holds 15, fewer than 10 × 2; set spec\.clients\.count to 1 or less, or use strategy iid; sfprompt run splits the image folder \S+train among the clients on this machine \(dirichlet\): spec\.data\.partitioning\.strategy none gives every client all of it\n/,
    },
    {
      // images of two sizes (the clients resize them to the model's input): the check counted them
      // by decoding each at its own size, met the second size, and left the split to the clients,
      // which each refused it after nats-server and the server had started
      name: "an image folder of mixed sizes too small for Dirichlet's 10 samples per client",
      data: (d: string): string[] => {
        writeFolder(join(d, "train"), train.slice(0, 15));
        const first = train[0]!;
        const side = SIDE + 4;
        const header = Buffer.from(`P5\n${side} ${side}\n255\n`);
        writeFileSync(
          join(d, "train", String(first.label), "0.pgm"),
          Buffer.concat([header, Buffer.alloc(side * side)]),
        );
        writeFolder(join(d, "test"), test);
        return [
          `source: { imageFolder: { path: ${JSON.stringify(join(d, "train"))} } }`,
          `evalSource: { imageFolder: { path: ${JSON.stringify(join(d, "test"))} } }`,
          "partitioning: { strategy: dirichlet, alpha: 0.5 }",
        ];
      },
      says: /: spec\.clients\.count: is 2, but strategy dirichlet \(spec\.data\.partitioning\) gives every client 10 samples at least and the training data \(spec\.data\.source\) holds 15, fewer than 10 × 2; .*sfprompt run splits the image folder \S+train among the clients on this machine \(dirichlet\)/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} before anything starts, naming the field`, () => {
      const d = mkdtempSync(join(dir, "refused-"));
      const out = join(d, "out");
      const r = sfprompt("run", jobWithData(d, "own", c.data(d)), "--out", out);
      assertUserError(r, c.says);
      assert.equal(existsSync(out), false, "no run directory: nothing started");
    });
  }
});
