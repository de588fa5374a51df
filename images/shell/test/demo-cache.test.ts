// The server and client entry points on a job whose model cache cannot be used (real child processes,
// a real nats-server, real cache folders): builtin: demo with a cache folder that is a file, and a
// model file whose bundle cannot be cached. Each is refused at
// start-up (config.invalid, exit 1) naming what to fix, the cache folder as the images read it
// (--cache-dir / SFPROMPT_CACHE_DIR, not the CLI's SFPROMPT_CACHE); they ended in runtime.failed with
// a stack (exit 3), a restart loop meeting the same failure. So is a demo model that cannot be
// pre-trained for want of its Fashion-MNIST files (missing, corrupt, unreadable by the image's user).
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { CARD_FILE, DEMO_RECIPE, MODEL_FILE, demoModelDir } from "@sfprompt/core";
import { readModelOutline, writeModel } from "@sfprompt/engine";
import {
  ENTRY,
  expectRefusedAtStart,
  runConfig,
  spawnEntry,
  useEntryFixtures,
  type Proc,
} from "./harness.js";

const fx = useEntryFixtures();

interface Role {
  readonly role: string;
  readonly entry: string;
  readonly env: Record<string, string>;
}

/** A Fashion-MNIST folder (SFPROMPT_FASHION_MNIST_DIR) with the train files as `fill` makes them. */
function fashionDir(name: string, fill: (dir: string) => void): Record<string, string> {
  const dir = join(fx.tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  fill(dir);
  return { SFPROMPT_FASHION_MNIST_DIR: dir };
}
const TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
const TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
// as root here, an unreadable case runs the process as the images' user and leaves root's files at
// 0600; as another user, the files are made unreadable to that user (mode 000) instead
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);

/** A demo model card with the fields runs read. */
const CARD = {
  data: { trainSamples: 30000, testSamples: 2000 },
  epochs: 2,
  testAccuracy: 0.85,
  seconds: 26,
};

// folders made unsearchable, given back their mode before the temp folder is removed
const unsearchable: string[] = [];

/** A cache folder the process cannot write in: root's at 0755 (as another user, 0555). */
function unwritableFolder(name: string): string {
  const dir = join(fx.tmp.dir, name);
  mkdirSync(dir);
  chmodSync(dir, asRoot ? 0o755 : 0o555);
  return dir;
}
const SERVER: Role = { role: "server", entry: ENTRY.server, env: { SFPROMPT_LINGER_AFTER_FINISH: "false" } };
const CLIENT: Role = {
  role: "client",
  entry: ENTRY.client,
  env: { SFPROMPT_CLIENT_INDEX: "0", SFPROMPT_CLIENT_COUNT: "2" },
};
const SETTING = "--cache-dir / SFPROMPT_CACHE_DIR";

const cases: {
  name: string;
  roles: Role[];
  model: () => Record<string, unknown>;
  /** The process's cache folder, made as the case needs it. */
  cache: (name: string) => string;
  field: string;
  says: RegExp;
  /** More environment for the process (each case's own Fashion-MNIST folder). */
  env?: (name: string) => Record<string, string>;
  /** Run as the images' user (the case's files are root's). */
  asImageUser?: boolean;
}[] = [
  {
    name: "builtin: demo, a cache folder that is a file",
    roles: [SERVER, CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name) => fx.tmp.write(name, "not a folder\n"),
    field: "spec.model.source",
    says: /builtin: demo: its cache folder .*cache-demo-0-\w+\/models cannot be created \(ENOTDIR\); set --cache-dir \/ SFPROMPT_CACHE_DIR \(now .*\) to a folder this user can write/,
  },
  {
    name: "a model file whose bundle cannot be cached, a cache folder that is a file",
    roles: [SERVER, CLIENT],
    model: () => {
      const path = join(fx.tmp.dir, "vit.onnx");
      writeModel(path, fx.bundle.model);
      return { path };
    },
    cache: (name) => fx.tmp.write(name, "not a folder\n"),
    field: SETTING,
    says: /cannot prepare the model's bundle under .*cache-demo-1-\w+\/bundles \(ENOTDIR: .*\); set it to a folder this user can write/,
  },
  {
    name: "builtin: demo to pre-train, Fashion-MNIST not in SFPROMPT_FASHION_MNIST_DIR",
    roles: [SERVER, CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name) => join(fx.tmp.dir, name),
    env: (name) => fashionDir(`fashion-${name}`, () => undefined),
    field: "spec.model.source",
    says: /builtin: demo: the model is not in the cache folder and cannot be pre-trained: .*Fashion-MNIST's train split is not in .*fashion-demo-2-\w+ \(SFPROMPT_FASHION_MNIST_DIR\): set SFPROMPT_FASHION_MNIST_DIR to a folder with its IDX files.*; the images install Debian's dataset-fashion-mnist unless built with DEBIAN_DATASETS="" \(images\/Dockerfile\); or put a demo model pre-trained elsewhere \(sfprompt demo-model --cache DIR writes DIR\/models\/…\) into the cache folder's models\/ \(--cache-dir \/ SFPROMPT_CACHE_DIR, now .*cache-demo-2-\w+\)$/,
  },
  {
    name: "builtin: demo to pre-train, a Fashion-MNIST file that is not IDX",
    roles: [CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name) => join(fx.tmp.dir, name),
    env: (name) =>
      fashionDir(`fashion-${name}`, (dir) => {
        writeFileSync(join(dir, TRAIN_IMAGES), "not idx");
        writeFileSync(join(dir, TRAIN_LABELS), "not idx");
      }),
    field: "spec.model.source",
    says: /builtin: demo: the model is not in the cache folder and cannot be pre-trained: .*train-(images|labels)-idx\d-ubyte\.gz: bad IDX magic number .*; is this an IDX file\?/,
  },
  {
    name: "builtin: demo to pre-train, a Fashion-MNIST file the image's user cannot read",
    roles: [CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name) => {
      const dir = join(fx.tmp.dir, name);
      mkdirSync(dir, { mode: 0o777 });
      chmodSync(dir, 0o777);
      return dir;
    },
    env: (name) =>
      fashionDir(`fashion-${name}`, (dir) => {
        chmodSync(dir, 0o755);
        for (const f of [TRAIN_IMAGES, TRAIN_LABELS]) {
          writeFileSync(join(dir, f), "root's");
          chmodSync(join(dir, f), asRoot ? 0o600 : 0o000);
        }
      }),
    asImageUser: true,
    field: "spec.model.source",
    says: new RegExp(
      // both files in one message, and one chmod for both
      `builtin: demo: the model is not in the cache folder and cannot be pre-trained: (\\S+fashion-demo-4-\\w+)/train-images-idx3-ubyte\\.gz, \\1/train-labels-idx1-ubyte\\.gz cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the files readable by uid ${uid} in the image or on its volume: chmod a\\+r \\1/train-images-idx3-ubyte\\.gz \\1/train-labels-idx1-ubyte\\.gz \\(or chown ${uid}:\\d+ \\1/train-images-idx3-ubyte\\.gz \\1/train-labels-idx1-ubyte\\.gz\\), and their folders searchable \\(a\\+x\\)`,
    ),
  },
  {
    name: "builtin: demo, a cache folder of root's the image's user cannot write in",
    roles: [CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name) => unwritableFolder(name),
    asImageUser: true,
    field: "spec.model.source",
    says: new RegExp(
      `builtin: demo: its cache folder (\\S+cache-demo-5-client)/models cannot be created: \\1 cannot be written by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make it writable by uid ${uid}: chown -R ${uid}:\\d+ \\1 \\(or chmod -R a\\+rwX \\1\\); set --cache-dir / SFPROMPT_CACHE_DIR \\(now \\1\\) to a folder this user can write`,
    ),
  },
  {
    name: "a model file whose bundle cannot be cached, a cache folder of root's the image's user cannot write in",
    roles: [CLIENT],
    model: () => {
      const path = join(fx.tmp.dir, "vit.onnx");
      writeModel(path, fx.bundle.model);
      chmodSync(path, 0o644);
      return { path };
    },
    cache: (name) => unwritableFolder(name),
    asImageUser: true,
    field: SETTING,
    says: new RegExp(
      `cannot prepare the model's bundle under (\\S+cache-demo-6-client)/bundles: \\1 cannot be written by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make it writable by uid ${uid}: chown -R ${uid}:\\d+ \\1 \\(or chmod -R a\\+rwX \\1\\); set it to a folder this user can write`,
    ),
  },
  {
    name: "builtin: demo to pre-train, a Fashion-MNIST folder of root's (0700) the image's user cannot search",
    roles: [CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name) => {
      const dir = join(fx.tmp.dir, name);
      mkdirSync(dir, { mode: 0o777 });
      chmodSync(dir, 0o777);
      return dir;
    },
    env: (name) =>
      fashionDir(`fashion-${name}`, (dir) => {
        for (const f of [TRAIN_IMAGES, TRAIN_LABELS]) writeFileSync(join(dir, f), "root's");
        unsearchable.push(dir);
        chmodSync(dir, asRoot ? 0o700 : 0o000);
      }),
    asImageUser: true,
    field: "spec.model.source",
    // not "Fashion-MNIST's train split is not in <folder>": the files are there
    says: new RegExp(
      `builtin: demo: the model is not in the cache folder and cannot be pre-trained: (\\S+fashion-demo-7-client)/train-images-idx3-ubyte\\.gz cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and its IDX files readable by uid ${uid} in the image or on its volume: chmod -R a\\+rX \\1 \\(or chown -R ${uid}:\\d+ \\1\\); see docs/datasets.md; the images install Debian's`,
    ),
  },
  // ADR 0017 amendment 35: a file of root's (0600) in the cached copy was taken for damage (the card
  // "is not valid JSON", the model "cannot read ONNX model … (EACCES)") and the copy built again over
  // root's, where the cache above it could be written in; it is refused with the chmod
  ...(["card.json", "model.onnx"] as const).map((file, k) => ({
    name: `builtin: demo, a cached copy whose ${file} (root's, 0600) the image's user cannot read`,
    roles: [CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name: string) => closedCopy(name, file),
    // an empty Fashion-MNIST folder: a copy taken for damage is not pre-trained again for minutes
    env: (name: string) => fashionDir(`fashion-${name}`, (dir) => chmodSync(dir, 0o755)),
    asImageUser: true,
    field: "spec.model.source",
    says: new RegExp(
      `builtin: demo: demo model cache (\\S+cache-demo-${8 + k}-client/models/[^/: ]+): \\1/${file.replace(".", "\\.")} cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and everything in it readable by uid ${uid} \\(on its volume or the node\\): chmod -R a\\+rX \\1 \\(or chown -R ${uid}:\\d+ \\1\\); or remove the folder \\(rm -rf \\1\\) so that the model is built again \\(in the cache folder, --cache-dir / SFPROMPT_CACHE_DIR, now \\S+\\)$`,
    ),
  })),
];

/**
 * A cache (and its models folder) the image's user may write in, holding a demo copy of root's whose
 * model reads and whose card is a card, `closed` of them at 0600 (as another user, 000).
 */
function closedCopy(name: string, closed: typeof CARD_FILE | typeof MODEL_FILE): string {
  const cache = join(fx.tmp.dir, name);
  const dir = demoModelDir(DEMO_RECIPE, cache);
  mkdirSync(dir, { recursive: true });
  for (const d of [cache, dirname(dir)]) chmodSync(d, 0o777);
  chmodSync(dir, 0o755);
  writeModel(join(dir, MODEL_FILE), fx.bundle.model);
  writeFileSync(join(dir, CARD_FILE), JSON.stringify(CARD));
  for (const f of [MODEL_FILE, CARD_FILE])
    chmodSync(join(dir, f), f === closed ? (asRoot ? 0o600 : 0o000) : 0o644);
  return cache;
}

describe("a job whose model cache cannot be used", () => {
  after(() => unsearchable.forEach((dir) => chmodSync(dir, 0o755)));
  for (const [i, c] of cases.entries())
    for (const r of c.roles)
      it(`${c.name}: the ${r.role} is refused at start-up naming ${c.field}`, async () => {
        const name = `demo-${i}-${r.role}`;
        const config = runConfig({ model: { source: c.model() } }, name);
        const configFile = fx.tmp.write(`${name}.json`, JSON.stringify(config));
        // the run's own files are readable by the image's user, as a pod's mounts are
        if (c.asImageUser) for (const f of [fx.tmp.dir, configFile]) chmodSync(f, 0o755);
        const proc = spawnEntry(
          r.entry,
          [],
          {
            SFPROMPT_RUN_CONFIG: configFile,
            NATS_URL: fx.nats.url,
            SFPROMPT_HTTP_HOST: "127.0.0.1",
            SFPROMPT_HTTP_PORT: "0",
            SFPROMPT_CACHE_DIR: c.cache(`cache-${name}`),
            ...c.env?.(name),
            ...r.env,
          },
          c.asImageUser && asRoot ? IMAGE_USER : undefined,
        );
        const log = proc.logs;
        await expectRefusedAtStart(proc, c.field, c.says);
        const refusal = log.find((l) => l.event === "config.invalid");
        assert.doesNotMatch(String(refusal?.error), /SFPROMPT_CACHE(?!_DIR)/, "names the images' setting");
      });
});

/** An IDX file: images (`n` 28 x 28, pixel i % 251) or labels (i % 10), as Fashion-MNIST's. */
function idx(kind: "images" | "labels", n: number): Buffer {
  const images = kind === "images";
  const header = Buffer.alloc(images ? 16 : 8);
  header.writeUInt32BE(images ? 0x00000803 : 0x00000801, 0);
  header.writeUInt32BE(n, 4);
  if (images) {
    header.writeUInt32BE(28, 8);
    header.writeUInt32BE(28, 12);
  }
  const body = Buffer.alloc(images ? n * 28 * 28 : n);
  for (let i = 0; i < body.length; i++) body[i] = images ? i % 251 : i % 10;
  return Buffer.concat([header, body]);
}

// ADR 0017 amendment 32: the image's own cached model.onnx cut short (a full volume, an interrupted
// copy) was refused with `rm -rf <its folder>` at every restart of the pod until someone ran it
describe("builtin: demo whose cached copy is damaged (model.onnx cut short, card.json no card)", () => {
  const card = CARD;

  /** A cache whose demo model folder holds a model.onnx cut to 100 bytes beside a card; its folder. */
  function damagedCache(name: string): { cache: string; dir: string } {
    const cache = join(fx.tmp.dir, `cache-${name}`);
    const dir = demoModelDir(DEMO_RECIPE, cache);
    mkdirSync(dir, { recursive: true });
    const model = join(dir, MODEL_FILE);
    writeModel(model, fx.bundle.model);
    writeFileSync(model, readFileSync(model).subarray(0, 100));
    writeFileSync(join(dir, CARD_FILE), JSON.stringify(card));
    return { cache, dir };
  }

  /** A client of a builtin: demo job on `cache`, with a small Fashion-MNIST (pre-training takes seconds). */
  async function startOn(name: string, cache: string, user?: typeof IMAGE_USER): Promise<Proc> {
    const fashion = fashionDir(`fashion-${name}`, (d) => {
      writeFileSync(join(d, "train-images-idx3-ubyte"), idx("images", 128));
      writeFileSync(join(d, "train-labels-idx1-ubyte"), idx("labels", 128));
      writeFileSync(join(d, "t10k-images-idx3-ubyte"), idx("images", 32));
      writeFileSync(join(d, "t10k-labels-idx1-ubyte"), idx("labels", 32));
    });
    const config = runConfig({ model: { source: { builtin: "demo" } } }, name);
    const configFile = fx.tmp.write(`${name}.json`, JSON.stringify(config));
    for (const f of [fx.tmp.dir, configFile, fashion.SFPROMPT_FASHION_MNIST_DIR!]) chmodSync(f, 0o755);
    const proc = spawnEntry(
      ENTRY.client,
      [],
      {
        SFPROMPT_RUN_CONFIG: configFile,
        NATS_URL: fx.nats.url,
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        SFPROMPT_CACHE_DIR: cache,
        ...fashion,
        ...CLIENT.env,
      },
      user,
    );
    const line = await proc.waitForLog(
      (l) => ["client.data", "config.invalid", "runtime.failed"].includes(l.event),
      300_000,
    );
    assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${proc.stderr()}`);
    return proc;
  }

  /** Its model.rebuilt line: warn, the folder, the engine's message for the file cut short. */
  function assertRebuilt(proc: Proc, dir: string): void {
    const rebuilt = proc.logs.find((l) => l.event === "model.rebuilt");
    assert.ok(rebuilt, JSON.stringify(proc.logs.map((l) => l.event)));
    assert.equal(rebuilt.level, "warn");
    assert.equal(rebuilt.dir, dir);
    assert.match(String(rebuilt.why), new RegExp(`^cannot load ONNX model ${dir}/model\\.onnx: `));
  }

  /** The folder holds a model that reads, pre-trained on the 128 images (its new card says so). */
  function assertBuiltAgain(dir: string): void {
    assert.ok(readModelOutline(join(dir, MODEL_FILE)).initializers.size > 0);
    const newCard = JSON.parse(readFileSync(join(dir, CARD_FILE), "utf8")) as typeof card;
    assert.equal(newCard.data.trainSamples, 128);
  }

  it("pre-trains it again in its place under the lock (model.rebuilt, why) and starts on it", async () => {
    const { cache, dir } = damagedCache("demo-rebuilt");
    const proc = await startOn("demo-rebuilt", cache);
    try {
      assertRebuilt(proc, dir);
    } finally {
      proc.kill("SIGKILL");
    }
    await proc.exited;
    assertBuiltAgain(dir);
    // nothing left beside it: no lock, no temporary or damaged folder
    assert.deepEqual(
      readdirSync(dirname(dir)).filter((f) => f.startsWith(basename(dir))),
      [basename(dir)],
    );
  });

  // ADR 0017 amendment 34: a card that is no card was refused with `rm -rf <its folder>`, as the
  // model cut short was before amendment 32
  const badCards = [
    { name: "is not JSON", text: "{ not json", why: "is not valid JSON" },
    {
      name: "is JSON but not a demo model card",
      text: '{"name": "sfprompt-demo"}\n',
      why: "is not a demo model card \\(data: ",
    },
  ];
  for (const [i, c] of badCards.entries())
    it(`a cached card.json that ${c.name} beside a model that reads: pre-trained again (model.rebuilt naming the card)`, async () => {
      const name = `demo-card-${i}`;
      const { cache, dir } = damagedCache(name);
      writeModel(join(dir, MODEL_FILE), fx.bundle.model);
      writeFileSync(join(dir, CARD_FILE), c.text);
      const proc = await startOn(name, cache);
      try {
        const rebuilt = proc.logs.find((l) => l.event === "model.rebuilt");
        assert.ok(rebuilt, JSON.stringify(proc.logs.map((l) => l.event)));
        assert.equal(rebuilt.level, "warn");
        assert.equal(rebuilt.dir, dir);
        const card = join(dir, CARD_FILE).replace(/[.]/g, "\\.");
        assert.match(String(rebuilt.why), new RegExp(`^demo model cache ${card}: ${c.why}`));
      } finally {
        proc.kill("SIGKILL");
      }
      await proc.exited;
      assertBuiltAgain(dir);
    });

  it("a damaged copy whose files the image's user cannot remove: the new one is used, the old left aside (model.damaged-left)", async () => {
    // the damaged folder is root's (or, as another user, read-only); the cache above it is writable
    const { cache, dir } = damagedCache("demo-left");
    for (const d of [cache, dirname(dir)]) chmodSync(d, 0o777);
    chmodSync(dir, 0o555);
    const proc = await startOn("demo-left", cache, asRoot ? IMAGE_USER : undefined);
    let aside: string;
    try {
      assertRebuilt(proc, dir);
      const left = proc.logs.find((l) => l.event === "model.damaged-left");
      assert.ok(left, JSON.stringify(proc.logs.map((l) => l.event)));
      assert.equal(left.level, "warn");
      aside = String(left.dir);
      assert.match(aside, new RegExp(`^${dir}\\.damaged-\\d+$`));
      assert.match(String(left.error), /EACCES/);
    } finally {
      proc.kill("SIGKILL");
    }
    await proc.exited;
    assertBuiltAgain(dir);
    // the damaged copy as it was, aside: its cut model and its card
    assert.equal(readFileSync(join(aside, MODEL_FILE)).length, 100);
    chmodSync(aside, 0o755);
  });
});
