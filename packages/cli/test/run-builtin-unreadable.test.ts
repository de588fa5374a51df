// `sfprompt run` on a job whose data is builtin: fashion-mnist in a folder the run's user may not
// search (SFPROMPT_FASHION_MNIST_DIR, root's at 0700). Once Fashion-MNIST said so itself
// (DatasetUnreadableError), the run's split check, which leaves data it cannot have to the processes
// that name spec.data.source, took it for its own failure: 'sfprompt run: <file> cannot be read …'
// without the field (and a 0600 file was an internal error there before that). sfprompt run now
// refuses it itself before it starts anything, with the message the clients gave. As root the CLI
// runs as nobody; as another user, the folder is made 000.
import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FASHION_MNIST_DEBIAN_DIR, fashionMnistFiles } from "@sfprompt/core";
import { asRoot, otherUid, sfpromptAsOtherUser } from "./other-user.js";
import { assertUserError, writeTinyJob } from "./run-helpers.js";

describe("sfprompt run with built-in Fashion-MNIST in a folder the user cannot search", () => {
  let dir = "";
  let fashion = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-run-fashion-closed-"));
    chmodSync(dir, 0o777);
    fashion = join(dir, "fashion");
    mkdirSync(fashion);
    for (const split of ["train", "test"] as const)
      for (const file of Object.values(fashionMnistFiles(split, FASHION_MNIST_DEBIAN_DIR)))
        copyFileSync(file, join(fashion, file.slice(FASHION_MNIST_DEBIAN_DIR.length + 1)));
  });
  after(() => {
    chmodSync(fashion, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it("names spec.data.source, the folder, the user and the chmod (exit 1)", () => {
    const tiny = writeTinyJob(dir);
    const job = join(dir, "fashion-job.yaml");
    writeFileSync(job, readFileSync(tiny, "utf8").replace("builtin: mnist", "builtin: fashion-mnist"));
    chmodSync(job, 0o644);
    chmodSync(join(dir, "vit.onnx"), 0o644);
    chmodSync(fashion, asRoot ? 0o700 : 0o000);
    const r = sfpromptAsOtherUser(
      { SFPROMPT_FASHION_MNIST_DIR: fashion },
      "run",
      job,
      "--out",
      join(dir, "out"),
    );
    assertUserError(
      r,
      new RegExp(
        `^sfprompt run: ${job}: spec\\.data\\.source: ${fashion}/train-images-idx3-ubyte\\.gz cannot be read by this process's user \\(uid ${otherUid}, gid \\d+; EACCES\\): make the folder and its IDX files readable by uid ${otherUid} on this machine: chmod -R a\\+rX ${fashion} `,
      ),
    );
    assert.doesNotMatch(r.stderr, /cannot load|is not in/);
    // refused before anything started (the clients said it, after nats-server and the server had)
    assert.doesNotMatch(r.stderr, /^starting |refused the job's input/m);
  });
});
