// checkTrainingPartition on a job's own JSONL data at its path here (what `sfprompt run` asks before
// it starts any process): a split the file cannot give names the field; a text job's file is counted
// without its vocabulary (which the run fetches later, for builtin minilm); data that cannot be read
// is left to the clients, which read it shaped for the model and report it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkTrainingPartition, JobPartitionError } from "@sfprompt/core";
import { jobConfig } from "./job-fixture.js";

/** A JSONL file of `n` lines in `dir`: number features, or text for a text job. */
function jsonl(dir: string, name: string, n: number, kind: "features" | "text"): string {
  const file = join(dir, name);
  const line = (i: number): object =>
    kind === "text" ? { text: `line ${i}`, label: i % 2 } : { x: [i, i + 1], label: i % 2 };
  writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify(line(i))).join("\n") + "\n");
  return file;
}

describe("checkTrainingPartition on a JSONL file at its path here", () => {
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "partition-check-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // a vocabulary path that is not there: the check must not need it to count the lines
  const textModel = {
    model: {
      source: { path: "/nonexistent/bert.onnx" },
      tokenizer: { vocabulary: "/nonexistent/vocab.txt" },
    },
  };
  const cases = [
    {
      name: "three text lines for four clients split iid are refused naming spec.clients.count",
      spec: (d: string) => ({
        ...textModel,
        clients: { count: 4, perRound: { count: 4 } },
        data: { source: { jsonl: { path: jsonl(d, "text.jsonl", 3, "text") } } },
      }),
      refused:
        /^spec\.clients\.count: is 4, but the training data \(spec\.data\.source\) holds 3 samples: .*set spec\.clients\.count to 3 or less/,
    },
    {
      name: "one feature line for two clients says one sample",
      spec: (d: string) => ({
        clients: { count: 2, perRound: { count: 2 } },
        data: { source: { jsonl: { path: jsonl(d, "one.jsonl", 1, "features") } } },
      }),
      refused: /^spec\.clients\.count: is 2, but the training data \(spec\.data\.source\) holds 1 sample: /,
    },
    {
      name: "three feature lines for three clients are split",
      spec: (d: string) => ({
        data: { source: { jsonl: { path: jsonl(d, "three.jsonl", 3, "features") } } },
      }),
      refused: undefined,
    },
    {
      name: "three text lines for four clients that each take all of them (strategy none) pass",
      spec: (d: string) => ({
        ...textModel,
        clients: { count: 4, perRound: { count: 4 } },
        data: {
          source: { jsonl: { path: jsonl(d, "none.jsonl", 3, "text") } },
          partitioning: { strategy: "none" },
        },
      }),
      refused: undefined,
    },
    {
      name: "a file that does not parse is left to the clients",
      spec: (d: string) => {
        writeFileSync(join(d, "broken.jsonl"), "{ not json\n");
        return {
          clients: { count: 4, perRound: { count: 4 } },
          data: { source: { jsonl: { path: join(d, "broken.jsonl") } } },
        };
      },
      refused: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const spec = c.spec(mkdtempSync(join(dir, "case-")));
      // no held-out set: the training data alone is checked
      const check = checkTrainingPartition(
        jobConfig({ ...spec, training: { evaluation: { everyRounds: 0 } } }),
      );
      if (c.refused === undefined) return assert.equal(await check, undefined);
      await assert.rejects(check, (e: unknown) => {
        assert.ok(e instanceof JobPartitionError, String(e));
        assert.match(e.message, c.refused);
        return true;
      });
    });
  }
});
