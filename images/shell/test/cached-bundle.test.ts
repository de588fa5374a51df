// A client entry point (a real child process, a real nats-server) that prepares its bundle from a
// model file into its cache folder (SFPROMPT_CACHE_DIR/bundles/<hash>), started again once that copy
// was damaged: a gradient graph gone or cut short, a manifest cut short or gone. The copy was used
// unchecked and failed mid-round, then refused at start-up naming the folder to remove, so that every
// pod restart failed until someone removed it; it is now prepared again under the fill-once lock
// (bundle.rebuilt, saying why), also when two processes start on it at once. Refused still: a copy
// the image's user (10001) cannot read (a cache filled by root), or a damaged one in a folder it
// cannot write. As root here those run the second process as 10001; as another user, the file is
// made unreadable (mode 000) or the folder unwritable (0555) instead. A copy an earlier image left
// without cached-sizes.json is read for its graphs' structure and its sizes recorded; a sizes file the
// image's user cannot read is refused as unreadable, not taken for damage (ADR 0017 amendment 31).
import assert from "node:assert/strict";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import { BUNDLE_FILES, MANIFEST_FILE, writeModel } from "@sfprompt/engine";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures, type Proc } from "./harness.js";

const w = useEntryFixtures();
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);
const SETTING = "--cache-dir / SFPROMPT_CACHE_DIR";
const STARTED = ["client.data", "runtime.ready", "config.invalid", "runtime.failed"];
const JOB = "cached";
const SIZES_FILE = "cached-sizes.json";

/** Every file under `dir` by its relative path, with its bytes. */
function files(dir: string, root = dir): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) for (const [k, v] of files(path, root)) out.set(k, v);
    else out.set(relative(root, path), readFileSync(path));
  }
  return out;
}

/** A client of the job preparing its bundle from `model` into `cache`, as `user` when given. */
function startClient(model: string, cache: string, index = 0, user?: typeof IMAGE_USER): Proc {
  const config = w.tmp.write(
    `${JOB}.json`,
    JSON.stringify(runConfig({ model: { source: { path: model } } }, JOB)),
  );
  chmodSync(config, 0o644);
  const env = {
    SFPROMPT_RUN_CONFIG: config,
    NATS_URL: w.nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_CACHE_DIR: cache,
    SFPROMPT_CLIENT_INDEX: String(index),
    SFPROMPT_CLIENT_COUNT: "2",
  };
  return spawnEntry(ENTRY.client, [], env, user);
}

/** The first start's prepared copy (the suite's `before`, once the fixtures' has run): the model, its key's folder name and every file's bytes. */
const first = {} as { model: string; key: string; files: Map<string, Buffer>; dir: string };

/** A cache folder of its own holding the first start's copy; returns the copy's folder. */
function cacheWithCopy(name: string): { cache: string; dir: string } {
  const cache = join(w.tmp.dir, name);
  const dir = join(cache, "bundles", first.key);
  cpSync(first.dir, dir, { recursive: true });
  return { cache, dir };
}

/** The first log line of a start (config.invalid, or a start past its bundle: client.data). */
async function started(p: Proc): Promise<Record<string, unknown>> {
  return p.waitForLog((l) => STARTED.includes(l.event), 120_000);
}

const damaged: { name: string; spoil: (dir: string) => void; why: (dir: string) => RegExp }[] = [
  {
    name: "a cached gradient graph that is gone",
    spoil: (dir) => rmSync(join(dir, BUNDLE_FILES.tailGrad)),
    why: (dir) =>
      new RegExp(`^${dir}/grad/tail\\.onnx, which its manifest\\.json names, cannot be opened \\(ENOENT\\)$`),
  },
  {
    // passed the start-up check (it is there and readable) and failed when its session opened
    name: "a cached gradient graph cut short",
    spoil: (dir) => truncateSync(join(dir, BUNDLE_FILES.tailGrad), 100),
    why: (dir) => new RegExp(`^${dir}/grad/tail\\.onnx is 100 bytes, \\d+ when it was prepared$`),
  },
  {
    name: "a cached manifest cut short",
    spoil: (dir) => writeFileSync(join(dir, MANIFEST_FILE), '{"format": "sfprompt.partition-bundle", "vers'),
    why: (dir) => new RegExp(`^${dir}/manifest\\.json is not JSON \\(.+\\)$`),
  },
  {
    // an earlier image's copy has no sizes: the graph cut short passed and failed when its session opened
    name: "a graph cut short in a copy an earlier image cached without cached-sizes.json",
    spoil: (dir) => {
      rmSync(join(dir, SIZES_FILE));
      truncateSync(join(dir, BUNDLE_FILES.tailGrad), 100);
    },
    why: (dir) =>
      new RegExp(
        `^cannot load ONNX model ${dir}/grad/tail\\.onnx: the bytes are not an ONNX ModelProto \\(protobuf decoding failed\\)$`,
      ),
  },
  {
    // a cleaner that removes old files and keeps folders (systemd-tmpfiles) leaves such a copy
    name: "a cached manifest that is gone",
    spoil: (dir) => rmSync(join(dir, MANIFEST_FILE)),
    why: (dir) => new RegExp(`^${dir} holds no manifest\\.json$`),
  },
];

describe("a client whose bundle cached from its model file was damaged since", () => {
  before(async () => {
    first.model = join(w.tmp.dir, "vit.onnx");
    writeModel(first.model, w.bundle.model);
    chmodSync(w.tmp.dir, 0o755);
    chmodSync(first.model, 0o644);
    const cache = join(w.tmp.dir, "cache-first");
    const p = startClient(first.model, cache);
    try {
      first.dir = String((await p.waitForLog((l) => l.event === "bundle.prepared", 120_000)).dir);
      await p.waitForLog((l) => l.event === "client.data", 120_000);
    } finally {
      p.kill("SIGKILL");
    }
    await p.exited;
    first.key = first.dir.split("/").pop()!;
    first.files = files(first.dir);
    assert.ok(first.files.has(MANIFEST_FILE));
  });

  for (const [i, c] of damaged.entries())
    it(`${c.name}: prepares it again in its place (bundle.rebuilt, why) and starts on it`, async () => {
      const { cache, dir } = cacheWithCopy(`cache-damaged-${i}`);
      c.spoil(dir);
      const again = startClient(first.model, cache);
      try {
        const line = await started(again);
        assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${again.stderr()}`);
        const rebuilt = again.logs.find((l) => l.event === "bundle.rebuilt");
        assert.ok(rebuilt, JSON.stringify(again.logs.map((l) => l.event)));
        assert.equal(rebuilt.dir, dir);
        assert.match(String(rebuilt.why), c.why(dir));
      } finally {
        again.kill("SIGKILL");
      }
      await again.exited;
      // the same bundle as the first start's, byte for byte, and nothing left beside it
      assert.deepEqual(files(dir), first.files);
      assert.deepEqual(readdirSync(join(cache, "bundles")), [first.key]);
    });

  it("a start killed while it prepared the copy (its lock and temporary folder left): the next one prepares it and removes what the dead one left", async () => {
    const cache = join(w.tmp.dir, "cache-killed");
    const bundles = join(cache, "bundles");
    mkdirSync(bundles, { recursive: true });
    // a real process that held the lock and died: its pid on the lock's first line, as takeLock writes it
    const dead = spawn("sleep", ["60"]);
    const pid = dead.pid!;
    dead.kill("SIGKILL");
    await once(dead, "exit");
    writeFileSync(join(bundles, `${first.key}.lock`), `${pid}\n`);
    // half of a bundle in its temporary folder, and a damaged copy it had renamed aside
    const tmp = join(bundles, `${first.key}.tmp-${pid}`);
    cpSync(first.dir, tmp, { recursive: true });
    rmSync(join(tmp, MANIFEST_FILE));
    truncateSync(join(tmp, BUNDLE_FILES.tailGrad), 100);
    cpSync(first.dir, join(bundles, `${first.key}.damaged-${pid}`), { recursive: true });
    const again = startClient(first.model, cache);
    try {
      const line = await started(again);
      assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${again.stderr()}`);
      assert.ok(
        again.logs.some((l) => l.event === "bundle.prepared"),
        JSON.stringify(again.logs),
      );
    } finally {
      again.kill("SIGKILL");
    }
    await again.exited;
    const dir = join(bundles, first.key);
    assert.deepEqual(files(dir), first.files);
    assert.deepEqual(readdirSync(bundles), [first.key]);
  });

  it("two clients starting at once on a damaged copy: one prepares it, the other waits and uses it, neither fails", async () => {
    const { cache, dir } = cacheWithCopy("cache-damaged-both");
    writeFileSync(join(dir, MANIFEST_FILE), "{");
    const both = [startClient(first.model, cache, 0), startClient(first.model, cache, 1)];
    try {
      const lines = await Promise.all(both.map(started));
      for (const [k, line] of lines.entries())
        assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${both[k]!.stderr()}`);
      const events = both.map((p) => p.logs.map((l) => l.event).filter((e) => e.startsWith("bundle.")));
      assert.deepEqual(events.flat().sort(), ["bundle.cached", "bundle.rebuilt"], JSON.stringify(events));
    } finally {
      for (const p of both) p.kill("SIGKILL");
    }
    await Promise.all(both.map((p) => p.exited));
    assert.deepEqual(files(dir), first.files);
    assert.deepEqual(readdirSync(join(cache, "bundles")), [first.key]);
  });

  it("a whole copy an earlier image cached without cached-sizes.json: used as it is, its sizes recorded for later starts", async () => {
    const { cache, dir } = cacheWithCopy("cache-unrecorded");
    rmSync(join(dir, SIZES_FILE));
    const again = startClient(first.model, cache);
    try {
      const line = await started(again);
      assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${again.stderr()}`);
      const events = again.logs.map((l) => l.event).filter((e) => e.startsWith("bundle."));
      assert.deepEqual(events, ["bundle.sizes-recorded", "bundle.cached"]);
    } finally {
      again.kill("SIGKILL");
    }
    await again.exited;
    // the sizes the first start wrote, and nothing else changed or left beside them
    assert.deepEqual(files(dir), first.files);
  });

  // docs/images.md: "where the cache is read-only, bundle.sizes-unrecorded and the graphs are read again
  // at the next start" (ADR 0017 amendment 31): checked by no test before
  it("a whole copy without cached-sizes.json in a cache the image's user cannot write: used, bundle.sizes-unrecorded, nothing written", async () => {
    const { cache, dir } = cacheWithCopy("cache-unrecorded-readonly");
    rmSync(join(dir, SIZES_FILE));
    // root's copy read as uid 10001 (a prefilled read-only volume); as another user, made read-only
    if (!asRoot) chmodSync(dir, 0o555);
    const sizesLess = files(dir);
    for (let start = 0; start < 2; start++) {
      const again = startClient(first.model, cache, 0, asRoot ? IMAGE_USER : undefined);
      try {
        const line = await started(again);
        assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${again.stderr()}`);
        const events = again.logs.filter((l) => String(l.event).startsWith("bundle."));
        assert.deepEqual(
          events.map((l) => l.event),
          ["bundle.sizes-unrecorded", "bundle.cached"],
          `start ${start}`,
        );
        assert.equal(events[0]!.level, "info");
        assert.match(String(events[0]!.error), /EACCES/);
      } finally {
        again.kill("SIGKILL");
      }
      await again.exited;
      // no sizes file and nothing beside the copy's files: the next start reads the graphs again
      assert.deepEqual(files(dir), sizesLess, `start ${start}`);
    }
    if (!asRoot) chmodSync(dir, 0o755);
  });

  it("a cached-sizes.json the image's user cannot read: refused as unreadable with the chmod and the rm, not prepared again (config.invalid, exit 1)", async () => {
    const { cache, dir } = cacheWithCopy("cache-sizes-unreadable");
    // a cache whose bundles folder the image's user may write: preparing again would have been tried
    chmodSync(join(cache, "bundles"), 0o777);
    chmodSync(join(dir, SIZES_FILE), asRoot ? 0o600 : 0o000);
    const again = startClient(first.model, cache, 0, asRoot ? IMAGE_USER : undefined);
    try {
      const line = await started(again);
      assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${again.stderr()}`);
      assert.equal(line.field, SETTING, JSON.stringify(line));
      assert.match(
        String(line.error),
        new RegExp(
          `^${SETTING}: ${dir}/cached-sizes\\.json cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and everything in it readable by uid ${uid} \\(on its volume or the node\\): chmod -R a\\+rX ${dir} \\(or chown -R ${uid}:\\d+ ${dir}\\); see docs/images\\.md; or remove the cached copy \\(rm -rf ${dir}\\) so that the next start prepares it again$`,
        ),
      );
      assert.equal((await again.exited).code, 1);
    } finally {
      again.kill("SIGKILL");
    }
    // left as it was (the fix is the owner's): the mode, then the bytes
    assert.equal(statSync(join(dir, SIZES_FILE)).mode & 0o777, asRoot ? 0o600 : 0o000);
    chmodSync(join(dir, SIZES_FILE), 0o644);
    assert.deepEqual(readdirSync(join(cache, "bundles")), [first.key]);
    assert.deepEqual(files(dir), first.files);
  });

  it("a cached gradient graph the image's user cannot read: refused with the user, the chmod and the rm (config.invalid, exit 1)", async () => {
    const { cache, dir } = cacheWithCopy("cache-unreadable");
    chmodSync(join(dir, BUNDLE_FILES.tailGrad), asRoot ? 0o600 : 0o000);
    const again = startClient(first.model, cache, 0, asRoot ? IMAGE_USER : undefined);
    try {
      const line = await started(again);
      assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${again.stderr()}`);
      assert.equal(line.field, SETTING, JSON.stringify(line));
      assert.match(
        String(line.error),
        new RegExp(
          `^${SETTING}: ${dir}/grad/tail\\.onnx cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and everything in it readable by uid ${uid} \\(on its volume or the node\\): chmod -R a\\+rX ${dir} \\(or chown -R ${uid}:\\d+ ${dir}\\); see docs/images\\.md; or remove the cached copy \\(rm -rf ${dir}\\) so that the next start prepares it again$`,
        ),
      );
      assert.equal((await again.exited).code, 1);
    } finally {
      again.kill("SIGKILL");
    }
    // left as it was: the fix is the owner's
    assert.equal(statSync(join(dir, BUNDLE_FILES.tailGrad)).mode & 0o777, asRoot ? 0o600 : 0o000);
  });

  it("a damaged copy in a cache folder the image's user cannot write: refused with the damage, the user and the chown (config.invalid, exit 1)", async () => {
    const { cache, dir } = cacheWithCopy("cache-unwritable");
    const bundles = join(cache, "bundles");
    rmSync(join(dir, BUNDLE_FILES.tailGrad));
    if (!asRoot) chmodSync(bundles, 0o555);
    const again = startClient(first.model, cache, 0, asRoot ? IMAGE_USER : undefined);
    try {
      const line = await started(again);
      assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${again.stderr()}`);
      assert.equal(line.field, SETTING, JSON.stringify(line));
      assert.match(
        String(line.error),
        new RegExp(
          `^${SETTING}: the bundle cached in ${dir} is damaged \\(${dir}/grad/tail\\.onnx, which its manifest\\.json names, cannot be opened \\(ENOENT\\)\\) and cannot be prepared again: the model's bundle cannot be prepared under ${bundles}: ${bundles} cannot be written by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make it writable by uid ${uid}: chown -R ${uid}:\\d+ ${bundles} \\(or chmod -R a\\+rwX ${bundles}\\); set it to a folder this user can write`,
        ),
      );
      assert.equal((await again.exited).code, 1);
    } finally {
      again.kill("SIGKILL");
      chmodSync(bundles, 0o755);
    }
    assert.deepEqual(readdirSync(bundles), [first.key]);
  });
});
