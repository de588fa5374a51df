// `sfprompt run` with a job whose built-in data cannot be split among its clients (Dirichlet's 10
// samples per client, one client more than MNIST's training split allows): refused before anything
// starts, naming spec.clients.count and what to do. It started every client process, and each failed
// on its own with the partition's PartitionError ("lower minSize", not a field of the job).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadBuiltinDataset } from "@sfprompt/core";
import { assertUserError, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run with more clients than its data can give a Dirichlet share", () => {
  let dir = "";
  let job = "";
  let samples = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-partition-"));
    // the training split's size, read as the clients read it
    samples = (await loadBuiltinDataset("mnist", { split: "train" })).labels.length;
    job = join(dir, "many-clients.yaml");
    const clients = Math.floor(samples / 10) + 1;
    writeFileSync(
      job,
      readFileSync(writeTinyJob(dir), "utf8").replace(
        "clients: { count: 2 }",
        `clients: { count: ${clients} }`,
      ),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names spec.clients.count and the most clients the data allows before any process starts (exit 1)", () => {
    const out = join(dir, "out");
    const clients = Math.floor(samples / 10) + 1;
    const r = sfprompt("run", job, "--out", out);
    assertUserError(r, /^sfprompt run: \S+many-clients\.yaml: spec\.clients\.count: /m);
    assert.ok(
      r.stderr.includes(
        `spec.clients.count: is ${clients}, but strategy dirichlet (spec.data.partitioning) gives every client 10 samples at least and the training data (spec.data.source) holds ${samples}, fewer than 10 × ${clients}; set spec.clients.count to ${Math.floor(samples / 10)} or less, or use strategy iid`,
      ),
      r.stderr,
    );
    for (const started of ["nats", "logs", "bundle"])
      assert.ok(!existsSync(join(out, started)), `nothing was started or prepared (${started}/)`);
  });
});
