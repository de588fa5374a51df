// What a test file of process entry points runs on: a real nats-server, the runtime tests' tiny
// bundle and a temp folder, set up before its tests and removed after them; and the flags that start
// a role's entry point on them (run config file, NATS, HTTP on a free loopback port, the bundle).
import { after, before } from "node:test";
import type { RunConfig } from "@sfprompt/api";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { tinyBundle, type BundleFixture } from "../../../packages/sfprompt/test/runtime/bundle-fixture.js";
import { tempDir } from "./harness.js";

export interface ProcessFixture {
  readonly nats: TestNats;
  readonly bundle: BundleFixture;
  /** Writes `config` as `<file>.json` in the temp folder and gives the entry point's flags for it. */
  entryArgs(config: RunConfig, file: string): string[];
}

/** Registers the before/after hooks; `nats` and `bundle` are set once `before` has run. */
export function useProcessFixture(): ProcessFixture {
  const tmp = tempDir();
  const w = {} as { nats: TestNats; bundle: BundleFixture };
  before(async () => {
    w.nats = await startNatsServer();
    w.bundle = tinyBundle();
  });
  after(async () => {
    await w.nats.stop();
    w.bundle.remove();
    tmp.remove();
  });
  return {
    get nats() {
      return w.nats;
    },
    get bundle() {
      return w.bundle;
    },
    entryArgs(config, file) {
      const path = tmp.write(`${file}.json`, JSON.stringify(config));
      return [
        ...["--config", path, "--nats-url", w.nats.url, "--http-host", "127.0.0.1", "--http-port", "0"],
        ...["--bundle-dir", w.bundle.dir],
      ];
    },
  };
}
