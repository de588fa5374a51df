// `sfprompt run` when its server or client processes cannot have the job's input (here: an image
// folder whose files are no images, which the clients decode and the run's checks only list; a
// Fashion-MNIST install without its test split, which the server reads): each process logs
// `config.invalid` with the job's field, as the images do, and the message says which field the
// processes refused and why, as well as where the log is. The processes logged `process.failed`
// with a stack, and the message said "every client failed". (A training split that is not there is
// refused by sfprompt run before it starts them: run-checks-first.)
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FASHION_MNIST_DEBIAN_DIR, fashionMnistFiles } from "@sfprompt/core";
import { assertUserError, runProcesses, sfprompt, writeTinyJob } from "./run-helpers.js";

/** The JSON lines of a process's log in the run folder `out`. */
function logEvents(out: string, name: string): Record<string, unknown>[] {
  return readFileSync(join(out, "logs", `${name}.log`), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A Fashion-MNIST folder in `dir` holding `split`'s files only (links to Debian's). */
function fashionMnistWith(dir: string, split: "train" | "test"): string {
  const partial = join(dir, `fashion-mnist-${split}`);
  mkdirSync(partial);
  const files = fashionMnistFiles(split, FASHION_MNIST_DEBIAN_DIR);
  for (const file of [files.images, files.labels]) symlinkSync(file, join(partial, file.split("/").at(-1)!));
  return partial;
}

describe("sfprompt run when its processes cannot read the job's data", () => {
  let dir = "";
  let job = "";
  const saved = process.env["SFPROMPT_FASHION_MNIST_DIR"];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-child-failure-"));
    const tiny = writeTinyJob(dir);
    job = join(dir, "fashion-mnist.yaml");
    writeFileSync(job, readFileSync(tiny, "utf8").replace("builtin: mnist", "builtin: fashion-mnist"));
  });
  after(() => {
    if (saved === undefined) delete process.env["SFPROMPT_FASHION_MNIST_DIR"];
    else process.env["SFPROMPT_FASHION_MNIST_DIR"] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("every client refused spec.data.source: each logs config.invalid with the field, and the message quotes it and names its log", () => {
    // class folders 0 and 1 of files that are no PNG: the run's split check finds and labels them
    // without decoding; each client decodes its shard and stops on it
    const images = join(dir, "not-images");
    for (const label of ["0", "1"]) {
      mkdirSync(join(images, label), { recursive: true });
      for (const i of [1, 2, 3, 4]) writeFileSync(join(images, label, `${i}.png`), "not a png");
    }
    const folderJob = join(dir, "not-images.yaml");
    writeFileSync(
      folderJob,
      readFileSync(job, "utf8")
        .replace("builtin: fashion-mnist", `imageFolder: { path: ${JSON.stringify(images)} }`)
        .replace(
          "partitioning: { strategy: dirichlet, alpha: 0.5, samplesPerClient: 32 }",
          "partitioning: {}",
        )
        .replace("evaluation: { maxSamples: 50 }", "evaluation: { everyRounds: 0 }"),
    );
    const out = join(dir, "out-clients");
    assertUserError(
      sfprompt("run", folderJob, "--out", out),
      /^sfprompt run: every client refused the job's input: client-\d: spec\.data\.source: cannot load: \S+\/not-images\/[01]\/\d\.png: is not a readable PNG .*; fix the job's spec\.data\.source \(or what it names on this machine\); see \S+\/logs\/client-\d\.log$/m,
    );
    for (const client of ["client-0", "client-1"]) {
      const refused = logEvents(out, client).filter((e) => e["event"] === "config.invalid");
      assert.equal(refused.length, 1, `${client} logs one config.invalid`);
      assert.equal(refused[0]!["field"], "spec.data.source");
      assert.equal(refused[0]!["role"], "client");
      assert.match(String(refused[0]!["error"]), /^spec\.data\.source: cannot load: /);
      assert.ok(!logEvents(out, client).some((e) => e["event"] === "process.failed"), `${client}: no crash`);
    }
    assert.deepEqual(runProcesses(out), [], "no process of the run is left");
  });

  it("the server refused spec.data.source (its held-out split): it logs config.invalid with the field, and the message quotes it", () => {
    process.env["SFPROMPT_FASHION_MNIST_DIR"] = fashionMnistWith(dir, "train");
    const out = join(dir, "out-server");
    assertUserError(
      sfprompt("run", job, "--out", out),
      /^sfprompt run: the server refused the job's input: server: spec\.data\.source: cannot load: \S+\/t10k-images-idx3-ubyte(\.gz)?: Fashion-MNIST's test split is not in \S+ .*; fix the job's spec\.data\.source \(or what it names on this machine\); see \S+\/logs\/server\.log$/m,
    );
    const refused = logEvents(out, "server").filter((e) => e["event"] === "config.invalid");
    assert.deepEqual(
      refused.map((e) => [e["role"], e["field"]]),
      [["server", "spec.data.source"]],
    );
    assert.deepEqual(runProcesses(out), [], "no process of the run is left");
  });
});
