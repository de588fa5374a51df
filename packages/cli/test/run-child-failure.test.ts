// `sfprompt run` when its client processes fail on the job (here: a Fashion-MNIST install that lacks
// its training files, which only the clients read; the server reads the test files): the message says
// why, from the error the client logged, as well as where its log is. It said only "every client
// failed; see …/client-0.log".
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FASHION_MNIST_DEBIAN_DIR, fashionMnistFiles } from "@sfprompt/core";
import { assertUserError, runProcesses, sfprompt, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run when every client fails", () => {
  let dir = "";
  let job = "";
  const saved = process.env["SFPROMPT_FASHION_MNIST_DIR"];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-child-failure-"));
    const tiny = writeTinyJob(dir);
    job = join(dir, "fashion-mnist.yaml");
    writeFileSync(job, readFileSync(tiny, "utf8").replace("builtin: mnist", "builtin: fashion-mnist"));
    // the test split only: the server evaluates on it, the clients find no training split
    const partial = join(dir, "fashion-mnist");
    mkdirSync(partial);
    const test = fashionMnistFiles("test", FASHION_MNIST_DEBIAN_DIR);
    for (const file of [test.images, test.labels]) symlinkSync(file, join(partial, file.split("/").at(-1)!));
    process.env["SFPROMPT_FASHION_MNIST_DIR"] = partial; // the CLI's processes inherit it
  });
  after(() => {
    if (saved === undefined) delete process.env["SFPROMPT_FASHION_MNIST_DIR"];
    else process.env["SFPROMPT_FASHION_MNIST_DIR"] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("quotes the error a client logged, and names its log", () => {
    const out = join(dir, "out");
    assertUserError(
      sfprompt("run", job, "--out", out),
      /^sfprompt run: every client failed: client-0: DatasetNotFoundError: \S+\/train-images-idx3-ubyte(\.gz)?: Fashion-MNIST's train split is not in \S+ \(SFPROMPT_FASHION_MNIST_DIR\): .*; see \S+\/logs\/client-0\.log$/m,
    );
    assert.deepEqual(runProcesses(out), [], "no process of the run is left");
  });
});
