// A client entry point (a real child process, a real nats-server) whose data on its node cannot be
// read by the image's user, 10001 (images/Dockerfile; the operator sets no runAsUser): files copied
// onto a node as root with mode 0600 are the usual case. The process must name the field and say
// which user needs to read what, not only "EACCES". As root here, the process runs as 10001; as
// another user, the file is made unreadable to that user (mode 000) instead.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { ENTRY, pngFolder, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);

/** `file` readable by its owner (root) only; as another user, by no one. */
function unreadable(file: string): void {
  chmodSync(file, asRoot ? 0o600 : 0o000);
}

const cases = [
  {
    name: "an image in the folder",
    field: "spec.data.source",
    fix: (path: string): string => `chmod -R a+rX ${path}`,
    source: (dir: string): { path: string; unreadable: string; source: object } => {
      const path = pngFolder(join(dir, "images"), ["0", "1", "2"], 4);
      return { path, unreadable: join(path, "1", "2.png"), source: { imageFolder: { path } } };
    },
  },
  {
    name: "the JSONL file",
    field: "spec.data.source",
    fix: (path: string): string => `chmod a+r ${path}`,
    source: (dir: string): { path: string; unreadable: string; source: object } => {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, "train.jsonl");
      const line = (i: number): string => JSON.stringify({ x: new Array(784).fill(0.5), label: i % 3 });
      writeFileSync(path, `${Array.from({ length: 12 }, (_, i) => line(i)).join("\n")}\n`);
      return { path, unreadable: path, source: { jsonl: { path } } };
    },
  },
];

describe("a client whose data on its node the image's user cannot read", () => {
  for (const [i, c] of cases.entries()) {
    it(`names ${c.name}, its field and the user that must read it (config.invalid, exit 1)`, async () => {
      // the run's own files are readable by the image's user, as a pod's mounts are
      for (const d of [w.tmp.dir, dirname(w.bundle.dir), w.bundle.dir]) chmodSync(d, 0o755);
      const data = c.source(join(w.tmp.dir, `data-${i}`));
      chmodSync(join(w.tmp.dir, `data-${i}`), 0o755);
      unreadable(data.unreadable);
      const config = {
        ...runConfig({ classes: { numClasses: 3 } }, `unreadable-${i}`),
        data: { source: data.source, partitioning: { seed: 1, alpha: 0.5, strategy: "none" } },
      };
      const configFile = w.tmp.write(`unreadable-${i}.json`, JSON.stringify(config));
      chmodSync(configFile, 0o644);
      const env = {
        SFPROMPT_RUN_CONFIG: configFile,
        NATS_URL: w.nats.url,
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        SFPROMPT_BUNDLE_DIR: w.bundle.dir,
        SFPROMPT_CLIENT_INDEX: "0",
        SFPROMPT_CLIENT_COUNT: "2",
      };
      const proc = spawnEntry(ENTRY.client, [], env, asRoot ? IMAGE_USER : undefined);
      try {
        const line = await proc.waitForLog(
          (l) => l.event === "client.data" || l.event === "config.invalid" || l.event === "runtime.failed",
          60_000,
        );
        assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${proc.stderr()}`);
        assert.equal(line.field, c.field, JSON.stringify(line));
        const error = String(line.error);
        assert.ok(error.includes(data.unreadable), error);
        assert.match(error, new RegExp(`cannot be read by this process's user \\(uid ${uid}, `));
        assert.match(error, new RegExp(`make .* readable by uid ${uid}`));
        assert.ok(error.includes(c.fix(data.path)), error);
        const exit = await proc.exited;
        assert.equal(exit.code, 1, proc.stderr());
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }
});

// Built-in data read from the image: Fashion-MNIST in a folder of root's at 0700
// (SFPROMPT_FASHION_MNIST_DIR) said "cannot load: … make the folder … readable … on this machine"
// in a pod, and before that "Fashion-MNIST's train split is not in <folder>".
describe("a client whose built-in Fashion-MNIST the image's user cannot read", () => {
  const closed: string[] = [];
  after(() => closed.forEach((d) => chmodSync(d, 0o755)));

  it("names spec.data.source, the folder, the user and the chmod, in the image (config.invalid, exit 1)", async () => {
    for (const d of [w.tmp.dir, dirname(w.bundle.dir), w.bundle.dir]) chmodSync(d, 0o755);
    const fashion = join(w.tmp.dir, "fashion-closed");
    mkdirSync(fashion);
    for (const f of ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
      writeFileSync(join(fashion, f), "root's");
    closed.push(fashion);
    chmodSync(fashion, asRoot ? 0o700 : 0o000);
    const config = {
      ...runConfig({}, "fashion-closed"),
      data: { source: { builtin: "fashion-mnist" }, partitioning: { seed: 1, alpha: 0.5, strategy: "none" } },
    };
    const configFile = w.tmp.write("fashion-closed.json", JSON.stringify(config));
    chmodSync(configFile, 0o644);
    const env = {
      SFPROMPT_RUN_CONFIG: configFile,
      NATS_URL: w.nats.url,
      SFPROMPT_HTTP_HOST: "127.0.0.1",
      SFPROMPT_HTTP_PORT: "0",
      SFPROMPT_BUNDLE_DIR: w.bundle.dir,
      SFPROMPT_CLIENT_INDEX: "0",
      SFPROMPT_CLIENT_COUNT: "2",
      SFPROMPT_FASHION_MNIST_DIR: fashion,
    };
    const proc = spawnEntry(ENTRY.client, [], env, asRoot ? IMAGE_USER : undefined);
    try {
      const line = await proc.waitForLog(
        (l) => l.event === "client.data" || l.event === "config.invalid" || l.event === "runtime.failed",
        60_000,
      );
      assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${proc.stderr()}`);
      assert.equal(line.field, "spec.data.source", JSON.stringify(line));
      assert.equal(
        line.error,
        `spec.data.source: ${fashion}/train-images-idx3-ubyte.gz cannot be read by this process's user (uid ${uid}, gid ${asRoot ? IMAGE_USER.gid : process.getgid?.()}; EACCES): make the folder and its IDX files readable by uid ${uid} in the image or on its volume: chmod -R a+rX ${fashion} (or chown -R ${uid}:${asRoot ? IMAGE_USER.gid : process.getgid?.()} ${fashion}); see docs/datasets.md`,
      );
      assert.equal((await proc.exited).code, 1, proc.stderr());
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
