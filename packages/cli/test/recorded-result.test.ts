// A method's recorded result in a run directory is reused for the same run config only: recorded
// before ADR 0040, its config still carries job.generation, which trains nothing and must not force
// the method to run again; a change of what was trained (rounds, learning rate) still does.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunConfig } from "@sfprompt/api";
import { paramSet, paramTensor } from "@sfprompt/core";
import { readJobFile, runConfigFor } from "../src/run/job-file.js";
import { emptyMetrics } from "../src/run/metrics.js";
import { recordedResult, writeRecordedParams } from "../src/run/recorded-result.js";
import { RUN_FILES } from "../src/run/run-dir.js";
import { writeTinyJob } from "./run-helpers.js";

describe("a recorded result and the run config it was trained under", () => {
  let dir = "";
  let config: RunConfig;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-recorded-result-"));
    const job = readJobFile(writeTinyJob(dir, "{ rounds: 2 }"));
    config = runConfigFor(job, job.spec.method);
    const bytes = { up: 1, down: 1, total: 2, byKind: {} };
    const metrics = {
      ...emptyMetrics(config.job.name, config.method),
      final: { rounds: 2, loss: 0.5, accuracy: 0.5, bytes },
    };
    writeFileSync(join(dir, RUN_FILES.metrics), JSON.stringify(metrics));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const params = paramSet([["prompt", paramTensor(new Float32Array(6).fill(0.25), [2, 3])]]);
  const record = (trained: unknown): void => writeRecordedParams(dir, params, {}, [], trained as RunConfig);

  it("is reused when the recorded config differs only by the generation an older version wrote", () => {
    record({ ...config, job: { ...config.job, generation: 3 } });
    const reused = recordedResult(dir, config);
    assert.ok(reused, "the recorded result is reused");
    assert.deepEqual([...reused.params!.get("prompt")!.data], [...new Float32Array(6).fill(0.25)]);
  });

  it("is not reused when what was trained differs", () => {
    const lr = config.training.optimizer.learningRate;
    record({
      ...config,
      training: { ...config.training, optimizer: { ...config.training.optimizer, learningRate: lr * 2 } },
    });
    assert.equal(recordedResult(dir, config), undefined);
  });
});
