// The server and client entry points on a job whose model cache cannot be used (real child processes,
// a real nats-server, real cache folders): builtin: demo with a cache folder that is a file or a
// cached card that is not JSON, and a model file whose bundle cannot be cached. Each is refused at
// start-up (config.invalid, exit 1) naming what to fix, the cache folder as the images read it
// (--cache-dir / SFPROMPT_CACHE_DIR, not the CLI's SFPROMPT_CACHE); they ended in runtime.failed with
// a stack (exit 3), a restart loop meeting the same failure.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CARD_FILE, DEMO_RECIPE, MODEL_FILE, demoModelDir } from "@sfprompt/core";
import { writeModel } from "@sfprompt/engine";
import { ENTRY, expectRefusedAtStart, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const fx = useEntryFixtures();

interface Role {
  readonly role: string;
  readonly entry: string;
  readonly env: Record<string, string>;
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
    name: "builtin: demo, a cached card that is not JSON",
    roles: [CLIENT],
    model: () => ({ builtin: "demo" }),
    cache: (name) => {
      const root = join(fx.tmp.dir, name);
      const dir = demoModelDir(DEMO_RECIPE, root);
      mkdirSync(dir, { recursive: true });
      writeModel(join(dir, MODEL_FILE), fx.bundle.model);
      writeFileSync(join(dir, CARD_FILE), "{ not json");
      return root;
    },
    field: "spec.model.source",
    says: /builtin: demo: demo model cache .*card\.json: is not valid JSON; delete the folder to rebuild the model \(in the cache folder, --cache-dir \/ SFPROMPT_CACHE_DIR, now /,
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
    says: /cannot prepare the model's bundle under .*cache-demo-2-\w+\/bundles \(ENOTDIR: .*\); set it to a folder this user can write/,
  },
];

describe("a job whose model cache cannot be used", () => {
  for (const [i, c] of cases.entries())
    for (const r of c.roles)
      it(`${c.name}: the ${r.role} is refused at start-up naming ${c.field}`, async () => {
        const name = `demo-${i}-${r.role}`;
        const config = runConfig({ model: { source: c.model() } }, name);
        const proc = spawnEntry(r.entry, [], {
          SFPROMPT_RUN_CONFIG: fx.tmp.write(`${name}.json`, JSON.stringify(config)),
          NATS_URL: fx.nats.url,
          SFPROMPT_HTTP_HOST: "127.0.0.1",
          SFPROMPT_HTTP_PORT: "0",
          SFPROMPT_CACHE_DIR: c.cache(`cache-${name}`),
          ...r.env,
        });
        const log = proc.logs;
        await expectRefusedAtStart(proc, c.field, c.says);
        const refusal = log.find((l) => l.event === "config.invalid");
        assert.doesNotMatch(String(refusal?.error), /SFPROMPT_CACHE(?!_DIR)/, "names the images' setting");
      });
});
