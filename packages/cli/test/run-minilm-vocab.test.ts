// `sfprompt run` of a builtin: minilm job without model.tokenizer.vocabulary whose cached vocab.txt
// cannot be read as a WordPiece vocabulary (changed after the files were verified; the real pinned
// weights and model beside it): the processes refuse spec.model.source, the field the job's author
// wrote, naming the folder to delete. They named spec.model.tokenizer.vocabulary, which the job does
// not have, and said to pass the model's own vocab.txt.
import assert from "node:assert/strict";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MINILM_VERIFIED_FILE, ensureMinilmFiles, ensureMinilmModel, minilmFilesDir } from "@sfprompt/core";
import { assertUserError, runProcesses, sfprompt } from "./run-helpers.js";

const JOB = `apiVersion: sfprompt.io/v1alpha1
kind: SFPromptJob
metadata:
  name: minilm-vocab
spec:
  model:
    source: { builtin: minilm }
  classes: { numClasses: 10 }
  data:
    source: { builtin: debian-sections }
    partitioning: { strategy: iid, samplesPerClient: 16 }
  clients: { count: 2 }
  server: { executionProvider: cpu }
  training: { rounds: 1, batchSize: 8, evaluation: { maxSamples: 20 } }
`;

describe("sfprompt run of builtin: minilm whose cached vocabulary cannot be read", () => {
  let dir = "";
  let cache = "";
  const saved = process.env["SFPROMPT_CACHE"];
  before(async () => {
    // the real pinned files and the built model (fetched once into the default cache, as the
    // minilm-model tests do), linked into a cache of this test's whose vocab.txt is not a vocabulary
    const files = await ensureMinilmFiles({ onDownload: (msg) => console.log(`minilm: ${msg}`) });
    await ensureMinilmModel({ numClasses: 10 });
    dir = mkdtempSync(join(tmpdir(), "cli-run-minilm-vocab-"));
    cache = join(dir, "cache");
    const own = minilmFilesDir(cache);
    mkdirSync(own, { recursive: true });
    for (const f of [files.safetensors, files.config, join(files.dir, "models")])
      symlinkSync(f, join(own, f.split("/").at(-1)!));
    copyFileSync(join(files.dir, MINILM_VERIFIED_FILE), join(own, MINILM_VERIFIED_FILE));
    writeFileSync(join(own, "vocab.txt"), "hello\nworld\n");
  });
  after(() => {
    if (saved === undefined) delete process.env["SFPROMPT_CACHE"];
    else process.env["SFPROMPT_CACHE"] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("its processes refuse spec.model.source, naming the vocabulary and the folder to delete", () => {
    const job = join(dir, "job.yaml");
    writeFileSync(job, JOB);
    const out = join(dir, "out");
    process.env["SFPROMPT_CACHE"] = cache; // the CLI's processes inherit it
    const own = minilmFilesDir(cache).replace(/[.]/g, "\\.");
    assertUserError(
      sfprompt("run", job, "--out", out),
      new RegExp(
        // the server or the clients, whichever reads it first
        `^sfprompt run: (the server|every client) refused the job's input: (server|client-0): spec\\.model\\.source: builtin: minilm: its vocabulary ${own}/vocab\\.txt: has no "\\[CLS\\]" line.*; remove the pinned files' folder \\(rm -rf ${own}\\) to fetch them again \\(the cache folder is SFPROMPT_CACHE, now .*\\); fix the job's spec\\.model\\.source`,
        "m",
      ),
    );
    const refused = readdirSync(join(out, "logs"))
      .flatMap((f) => readFileSync(join(out, "logs", f), "utf8").split("\n"))
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e["event"] === "config.invalid");
    assert.ok(refused.length > 0, "a process logs config.invalid");
    for (const e of refused) assert.equal(e["field"], "spec.model.source", JSON.stringify(e));
    assert.deepEqual(runProcesses(out), [], "no process of the run is left");
  });
});
