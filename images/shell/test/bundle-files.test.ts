// A client entry point (a real child process, a real nats-server) given a bundle folder
// (SFPROMPT_BUNDLE_DIR) whose manifest is readable but whose ONNX files it cannot open: one the
// image's user, 10001, cannot read (copied in as root with mode 0600), one that is gone, or a
// manifest that is not one; and of a bundle whose graphs keep their weights in external data files
// (models over 1 GiB), such a data file unreadable, gone or cut short. A model file was met only
// when its session opened (a gradient graph: mid-round); each is now refused at start-up
// (config.invalid, exit 1) naming the setting, the file and the fix; a whole bundle with external
// data passes the check. As root here, the unreadable case runs the process as 10001; as another
// user, the file is made unreadable to that user (mode 000) instead.
import assert from "node:assert/strict";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BUNDLE_FILES, MANIFEST_FILE, readModel } from "@sfprompt/engine";
import { writeModelNaming } from "../../../packages/engine/test/helpers/write-model-naming.js";
import { tinyBundle, type BundleFixture } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();
// the tiny ViT's bundle with every graph's weights in a `<file>.data` beside it, as past 1 GiB
let external: BundleFixture;
before(() => {
  external = tinyBundle({ externalDataAbove: 0 });
});
after(() => external?.remove());
const HEAD_GRAD_DATA = `${BUNDLE_FILES.headGrad}.data`;
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);
const SETTING = "--bundle-dir / SFPROMPT_BUNDLE_DIR";
/** What a job on the built-in demo model (no model file to name) is told to do (ADR 0017 amendment 29). */
const BUILTIN_FIX = `give no bundle folder \\(unset ${SETTING}\\) so that this process prepares the built-in model's bundle itself`;

const cases: {
  name: string;
  /** The bundle copied: the tiny ViT's (default), or the one with external data files. */
  bundle?: "external";
  /** Spoils the copy of the bundle in `dir`. */
  spoil: (dir: string) => void;
  asImageUser?: boolean;
  says: (dir: string) => RegExp;
}[] = [
  {
    name: "a gradient graph the image's user cannot read",
    spoil: (dir) => chmodSync(join(dir, BUNDLE_FILES.tailGrad), asRoot ? 0o600 : 0o000),
    asImageUser: true,
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/grad/tail\\.onnx cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and everything in it readable by uid ${uid} \\(on its volume or the node\\): chmod -R a\\+rX ${dir}`,
      ),
  },
  {
    name: "a gradient graph that is gone",
    spoil: (dir) => rmSync(join(dir, BUNDLE_FILES.tailGrad)),
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/grad/tail\\.onnx, which its manifest\\.json names, cannot be opened \\(ENOENT\\); the bundle is incomplete: copy the whole folder again, or ${BUILTIN_FIX}$`,
      ),
  },
  {
    name: "a manifest that is not a partition manifest",
    spoil: (dir) => writeFileSync(join(dir, MANIFEST_FILE), "{}\n"),
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/manifest\\.json is not a partition manifest: format: .*; ${BUILTIN_FIX}$`,
      ),
  },
  {
    // the engine's "cannot read" advice (prepare into DIR, the flags not said) is left to the check's own
    name: "a manifest that is a folder, not a file",
    spoil: (dir) => {
      rmSync(join(dir, MANIFEST_FILE));
      mkdirSync(join(dir, MANIFEST_FILE));
    },
    says: (dir) =>
      new RegExp(`^${SETTING}: cannot read ${dir}/manifest\\.json \\(EISDIR\\); ${BUILTIN_FIX}$`),
  },
  {
    name: "a manifest cut short",
    spoil: (dir) => writeFileSync(join(dir, MANIFEST_FILE), '{"format": "sfprompt.partition-bundle", "vers'),
    says: (dir) => new RegExp(`^${SETTING}: ${dir}/manifest\\.json is not JSON \\(.+\\); ${BUILTIN_FIX}$`),
  },
  {
    name: "a gradient graph's external data file the image's user cannot read",
    bundle: "external",
    spoil: (dir) => chmodSync(join(dir, HEAD_GRAD_DATA), asRoot ? 0o600 : 0o000),
    asImageUser: true,
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/grad/head\\.onnx\\.data cannot be read by this process's user \\(uid ${uid}, gid \\d+; EACCES\\): make the folder and everything in it readable by uid ${uid} \\(on its volume or the node\\): chmod -R a\\+rX ${dir}`,
      ),
  },
  {
    name: "a gradient graph's external data file that is gone",
    bundle: "external",
    spoil: (dir) => rmSync(join(dir, HEAD_GRAD_DATA)),
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/grad/head\\.onnx\\.data, which its manifest\\.json names, cannot be opened \\(ENOENT\\); the bundle is incomplete: copy the whole folder again, or ${BUILTIN_FIX}$`,
      ),
  },
  {
    // ADR 0017 amendment 33: its access was checked, its length was not; met when the gradient
    // graph's session opened, mid-round
    name: "a gradient graph's external data file cut short",
    bundle: "external",
    spoil: (dir) => {
      const data = join(dir, HEAD_GRAD_DATA);
      truncateSync(data, statSync(data).size - 1);
    },
    says: (dir) =>
      new RegExp(
        `^${SETTING}: cannot load ONNX model ${dir}/grad/head\\.onnx: tensor "[^"]+": external range \\d+\\+\\d+ exceeds ${dir}/grad/head\\.onnx\\.data \\(\\d+ bytes\\) \\(the bundle is damaged\\); ${BUILTIN_FIX}$`,
      ),
  },
  {
    // ADR 0006 amendment 11: met when the gradient graph's session opened, mid-round
    name: "a gradient graph whose external data lies outside the bundle folder (../../)",
    bundle: "external",
    spoil: (dir) => {
      const graph = join(dir, BUNDLE_FILES.headGrad);
      writeModelNaming(graph, readModel(graph), "../../head-weights.bin");
    },
    says: (dir) =>
      new RegExp(
        `^${SETTING}: cannot load ONNX model ${dir}/grad/head\\.onnx: tensor "[^"]+" keeps its data at external location "\\.\\./\\.\\./head-weights\\.bin", a path that climbs out of it with "\\.\\.", outside the model's folder ${dir}/grad; .* \\(a graph of the bundle\\); ${BUILTIN_FIX}$`,
      ),
  },
  {
    // ADR 0006 amendment 11: met when the graph's session opened
    name: "a gradient graph that is no ONNX model",
    spoil: (dir) => writeFileSync(join(dir, BUNDLE_FILES.tailGrad), "not an onnx model\n"),
    says: (dir) =>
      new RegExp(
        `^${SETTING}: cannot load ONNX model ${dir}/grad/tail\\.onnx: the bytes are not an ONNX ModelProto \\(protobuf decoding failed\\) \\(the bundle is damaged\\); ${BUILTIN_FIX}$`,
      ),
  },
  {
    // ADR 0006 amendment 10: its access was checked, and its session opened, outside the folder
    name: "a manifest naming a graph outside the bundle folder",
    spoil: (dir) => {
      const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as {
        partitions: { file: string }[];
      };
      m.partitions[1]!.file = "../body.onnx";
      writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(m));
    },
    says: (dir) =>
      new RegExp(
        `^${SETTING}: ${dir}/manifest\\.json is not a partition manifest: partitions\\.1\\.file: "\\.\\./body\\.onnx" is not a file inside the bundle folder \\(absolute, or climbing out with "\\.\\."\\); ${BUILTIN_FIX}$`,
      ),
  },
];

/** A client given `dir` as its bundle, run as the image's user when asked (and when root). */
function startClient(
  dir: string,
  i: number,
  asImageUser: boolean | undefined,
): ReturnType<typeof spawnEntry> {
  const configFile = w.tmp.write(`bundle-${i}.json`, JSON.stringify(runConfig({}, `bundle-${i}`)));
  // the run's other files are readable by the image's user, as a pod's mounts are
  if (asImageUser) for (const p of [w.tmp.dir, dir, join(dir, "grad"), configFile]) chmodSync(p, 0o755);
  const env = {
    SFPROMPT_RUN_CONFIG: configFile,
    NATS_URL: w.nats.url,
    SFPROMPT_HTTP_HOST: "127.0.0.1",
    SFPROMPT_HTTP_PORT: "0",
    SFPROMPT_BUNDLE_DIR: dir,
    SFPROMPT_CLIENT_INDEX: "0",
    SFPROMPT_CLIENT_COUNT: "2",
  };
  return spawnEntry(ENTRY.client, [], env, asImageUser && asRoot ? IMAGE_USER : undefined);
}

const STARTED = ["client.data", "runtime.ready", "config.invalid", "runtime.failed"];

describe("a client given a bundle folder whose files it cannot open", () => {
  for (const [i, c] of cases.entries())
    it(`${c.name}: refused at start-up naming the file and the fix (config.invalid, exit 1)`, async () => {
      const dir = join(w.tmp.dir, `bundle-${i}`);
      cpSync(c.bundle === "external" ? external.dir : w.bundle.dir, dir, { recursive: true });
      c.spoil(dir);
      const proc = startClient(dir, i, c.asImageUser);
      try {
        const line = await proc.waitForLog((l) => STARTED.includes(l.event), 60_000);
        assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${proc.stderr()}`);
        assert.equal(line.field, SETTING, JSON.stringify(line));
        assert.match(String(line.error), c.says(dir));
        assert.equal((await proc.exited).code, 1);
      } finally {
        proc.kill("SIGKILL");
      }
    });
});

describe("a client given a whole bundle with external data files", () => {
  it("passes the start-up check and loads its data", async () => {
    const dir = join(w.tmp.dir, "bundle-external-whole");
    cpSync(external.dir, dir, { recursive: true });
    const proc = startClient(dir, cases.length, true);
    try {
      const line = await proc.waitForLog((l) => STARTED.includes(l.event), 60_000);
      assert.equal(line.event, "client.data", `${JSON.stringify(line)} ${proc.stderr()}`);
    } finally {
      proc.kill("SIGKILL");
    }
  });
});
