// A client entry point (a real child process, a real nats-server) that prepares its bundle from a
// model file into its cache folder (SFPROMPT_CACHE_DIR/bundles/<hash>), started again once that copy
// was damaged: a gradient graph gone, a manifest cut short or gone, a gradient graph the image's user (10001)
// cannot read (a cache filled by root). The cached copy was used unchecked and failed later, when the
// bundle loaded or a session opened; it is now checked as a given bundle is, and refused at start-up
// (config.invalid, exit 1) naming the cache setting, the file and what to do: remove the cached copy
// so that the next start prepares it again. As root here, the unreadable case runs the second process
// as 10001; as another user, the file is made unreadable to that user (mode 000) instead.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BUNDLE_FILES, MANIFEST_FILE, writeModel } from "@sfprompt/engine";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);
const SETTING = "--cache-dir / SFPROMPT_CACHE_DIR";
const STARTED = ["client.data", "runtime.ready", "config.invalid", "runtime.failed"];

const cases: {
  name: string;
  /** Spoils the cached bundle in `dir`. */
  spoil: (dir: string) => void;
  asImageUser?: boolean;
  says: (dir: string) => RegExp;
}[] = [
  {
    name: "a cached gradient graph that is gone",
    spoil: (dir) => rmSync(join(dir, BUNDLE_FILES.tailGrad)),
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/grad/tail\\.onnx, which its manifest\\.json names, cannot be opened \\(ENOENT\\); the bundle cached in ${dir} is incomplete: remove ${dir} so that the next start prepares it again$`,
      ),
  },
  {
    name: "a cached manifest cut short",
    spoil: (dir) => writeFileSync(join(dir, MANIFEST_FILE), '{"format": "sfprompt.partition-bundle", "vers'),
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/manifest\\.json is not JSON \\(.+\\); the bundle cached in ${dir} is damaged: remove ${dir} so that the next start prepares it again$`,
      ),
  },
  {
    // a cleaner that removes old files and keeps folders (systemd-tmpfiles) leaves such a copy: the
    // start prepared the bundle again and could not put it in place (rename: ENOTEMPTY), told as a
    // cache folder it cannot write
    name: "a cached manifest that is gone",
    spoil: (dir) => rmSync(join(dir, MANIFEST_FILE)),
    says: (dir) =>
      new RegExp(
        `^${SETTING}: the bundle cached in ${dir} has no manifest\\.json: remove ${dir} so that the next start prepares it again$`,
      ),
  },
  {
    name: "a cached gradient graph the image's user cannot read",
    spoil: (dir) => chmodSync(join(dir, BUNDLE_FILES.tailGrad), asRoot ? 0o600 : 0o000),
    asImageUser: true,
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/grad/tail\\.onnx cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and everything in it readable by uid ${uid} \\(on its volume or the node\\): chmod -R a\\+rX ${dir} \\(or chown -R ${uid}:\\d+ ${dir}\\); see docs/images\\.md; or remove ${dir} so that the next start prepares it again$`,
      ),
  },
];

/** A client of job `name` preparing its bundle from `model` into `cache`, as `user` when given. */
function startClient(name: string, model: string, cache: string, user?: typeof IMAGE_USER) {
  const config = w.tmp.write(
    `${name}.json`,
    JSON.stringify(runConfig({ model: { source: { path: model } } }, name)),
  );
  chmodSync(config, 0o644);
  const env = {
    SFPROMPT_RUN_CONFIG: config,
    NATS_URL: w.nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_CACHE_DIR: cache,
    SFPROMPT_CLIENT_INDEX: "0",
    SFPROMPT_CLIENT_COUNT: "2",
  };
  return spawnEntry(ENTRY.client, [], env, user);
}

describe("a client whose bundle cached from its model file was damaged since", () => {
  for (const [i, c] of cases.entries())
    it(`${c.name}: refused at start-up naming the file and the fix (config.invalid, exit 1)`, async () => {
      const model = join(w.tmp.dir, `vit-${i}.onnx`);
      writeModel(model, w.bundle.model);
      const cache = join(w.tmp.dir, `cache-${i}`);
      mkdirSync(cache);
      chmodSync(w.tmp.dir, 0o755);
      chmodSync(model, 0o644);
      // the first start prepares the bundle into the cache (as the test's user: root fills it)
      const first = startClient(`cached-${i}`, model, cache);
      let dir: string;
      try {
        const prepared = await first.waitForLog((l) => l.event === "bundle.prepared", 120_000);
        dir = String(prepared.dir);
      } finally {
        first.kill("SIGKILL");
      }
      await first.exited;
      assert.ok(statSync(join(dir, MANIFEST_FILE)).isFile());
      assert.deepEqual(readdirSync(join(cache, "bundles")), [dir.split("/").pop()]);
      c.spoil(dir);
      const user = c.asImageUser && asRoot ? IMAGE_USER : undefined;
      const again = startClient(`cached-${i}`, model, cache, user);
      try {
        const line = await again.waitForLog((l) => STARTED.includes(l.event), 120_000);
        assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${again.stderr()}`);
        assert.equal(line.field, SETTING, JSON.stringify(line));
        assert.match(String(line.error), c.says(dir));
        assert.equal((await again.exited).code, 1);
      } finally {
        again.kill("SIGKILL");
      }
    });
});
