// `sfprompt run` when its server or client processes cannot have the job's input (here: a
// Fashion-MNIST install that lacks one split; the clients read the training files, the server the
// test files): each process logs `config.invalid` with the job's field, as the images do, and the
// message says which field the processes refused and why, as well as where the log is. The
// processes logged `process.failed` with a stack, and the message said "every client failed".
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
    // the test split only: the server evaluates on it, the clients find no training split
    process.env["SFPROMPT_FASHION_MNIST_DIR"] = fashionMnistWith(dir, "test"); // the CLI's processes inherit it
    const out = join(dir, "out-clients");
    assertUserError(
      sfprompt("run", job, "--out", out),
      /^sfprompt run: every client refused the job's input: client-0: spec\.data\.source: cannot load: \S+\/train-images-idx3-ubyte(\.gz)?: Fashion-MNIST's train split is not in \S+ \(SFPROMPT_FASHION_MNIST_DIR\): .*; fix the job's spec\.data\.source \(or what it names on this machine\); see \S+\/logs\/client-0\.log$/m,
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
