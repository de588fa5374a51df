// A client entry point (a real child process, a real nats-server) whose model file the image's user,
// 10001, cannot read: copied onto a volume or node as root with mode 0600, or behind root's folder at
// 0700. The file was hashed for its bundle's cache key and refused as a bare "cannot read <path>:
// EACCES: permission denied, open …", and the closed folder read as "does not exist in this
// container"; both now name the file, the user and the chmod (config.invalid, exit 1), by the field
// that gave the path. As root here, the process runs as 10001; as another user, the path is made
// unreadable to that user (mode 000) instead.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeModel } from "@sfprompt/engine";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);
const gid = asRoot ? IMAGE_USER.gid : (process.getgid?.() ?? -1);

const cases: {
  name: string;
  /** Closes the model at `model` (in its own folder) to the image's user. */
  close: (model: string) => void;
  /** The model given as SFPROMPT_MODEL_PATH rather than spec.model.source.path. */
  byEnv?: boolean;
}[] = [
  {
    name: "spec.model.source.path: a model file of mode 0600",
    close: (model) => chmodSync(model, asRoot ? 0o600 : 0o000),
  },
  {
    name: "spec.model.source.path: a model file in a folder of mode 0700",
    close: (model) => chmodSync(join(model, ".."), asRoot ? 0o700 : 0o000),
  },
  {
    name: "SFPROMPT_MODEL_PATH: a model file of mode 0600",
    close: (model) => chmodSync(model, asRoot ? 0o600 : 0o000),
    byEnv: true,
  },
];

describe("a client whose model file the image's user cannot read", () => {
  for (const [i, c] of cases.entries())
    it(`${c.name}: names the file, the user and the chmod (config.invalid, exit 1)`, async () => {
      const folder = join(w.tmp.dir, `model-${i}`);
      mkdirSync(folder);
      const model = join(folder, "vit.onnx");
      writeModel(model, w.bundle.model);
      const cache = join(w.tmp.dir, `cache-${i}`);
      mkdirSync(cache);
      const spec = c.byEnv ? {} : { model: { source: { path: model } } };
      const configFile = w.tmp.write(`model-${i}.json`, JSON.stringify(runConfig(spec, `model-${i}`)));
      // the run's other files are readable (and the cache writable) by the image's user, as a pod's are
      for (const p of [w.tmp.dir, folder, model, configFile]) chmodSync(p, 0o755);
      chmodSync(cache, 0o777);
      c.close(model);
      const env = {
        SFPROMPT_RUN_CONFIG: configFile,
        NATS_URL: w.nats.url,
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        SFPROMPT_CACHE_DIR: cache,
        SFPROMPT_CLIENT_INDEX: "0",
        SFPROMPT_CLIENT_COUNT: "2",
        ...(c.byEnv ? { SFPROMPT_MODEL_PATH: model } : {}),
      };
      const proc = spawnEntry(ENTRY.client, [], env, asRoot ? IMAGE_USER : undefined);
      try {
        const line = await proc.waitForLog(
          (l) => ["client.data", "runtime.ready", "config.invalid", "runtime.failed"].includes(l.event),
          120_000,
        );
        assert.equal(line.event, "config.invalid", `${JSON.stringify(line)} ${proc.stderr()}`);
        const field = c.byEnv ? "--model-path / SFPROMPT_MODEL_PATH" : "spec.model.source.path";
        assert.equal(line.field, field, JSON.stringify(line));
        assert.equal(
          String(line.error),
          `${field}: ${model} cannot be read by this process's user (uid ${uid}, gid ${gid}; EACCES): ` +
            `make the model file readable by uid ${uid} (on its volume or the node): chmod a+r ${model}` +
            ` (or chown ${uid}:${gid} ${model}), and its folders searchable (a+x); see docs/images.md`,
        );
        assert.equal((await proc.exited).code, 1);
      } finally {
        proc.kill("SIGKILL");
        chmodSync(folder, 0o755);
      }
    });
});
