// The server entry point (a real child process; a real nats-server) on a job whose held-out folder is
// its training folder, named through a symbolic link: it warns (eval.is-training-data, naming both
// paths) before it reports ready, since the accuracy it would report is measured on training samples.
// Nothing detected this; a held-out folder of its own gets no warning.
import assert from "node:assert/strict";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ENTRY, pngFolder, runConfig, spawnEntry, useEntryFixtures } from "./harness.js";

const w = useEntryFixtures();

/** A folder of PNGs, four in each of the class folders 0..2. */
function folder(name: string): string {
  return pngFolder(join(w.tmp.dir, name), ["0", "1", "2"], 4);
}

const cases = [
  {
    name: "warns when the held-out folder is the training folder through a link",
    paths: (): [string, string] => {
      const train = folder("train-0");
      symlinkSync(train, join(w.tmp.dir, "held-0"));
      return [train, join(w.tmp.dir, "held-0")];
    },
    warns: true,
  },
  {
    name: "does not warn for a held-out folder of its own",
    paths: (): [string, string] => [folder("train-1"), folder("held-1")],
    warns: false,
  },
];

describe("a server whose held-out set may be its training data", () => {
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const [train, held] = c.paths();
      const base = runConfig({ classes: { numClasses: 3 } }, `eval-overlap-${i}`);
      const config = {
        ...base,
        data: {
          ...base.data,
          source: { imageFolder: { path: train } },
          evalSource: { imageFolder: { path: held } },
        },
      };
      const proc = spawnEntry(ENTRY.server, [], {
        SFPROMPT_RUN_CONFIG: w.tmp.write(`eval-overlap-${i}.json`, JSON.stringify(config)),
        NATS_URL: w.nats.url,
        SFPROMPT_HTTP_HOST: "127.0.0.1",
        SFPROMPT_HTTP_PORT: "0",
        SFPROMPT_BUNDLE_DIR: w.bundle.dir,
      });
      try {
        const ready = await proc.waitForLog(
          (l) => l.event === "runtime.ready" || l.event === "config.invalid" || l.event === "runtime.failed",
          60_000,
        );
        assert.equal(ready.event, "runtime.ready", `${JSON.stringify(ready)} ${proc.stderr()}`);
        const warning = proc.logs.find((l) => l.event === "eval.is-training-data");
        if (!c.warns) return assert.equal(warning, undefined);
        assert.ok(warning, "no eval.is-training-data warning before ready");
        assert.deepEqual(
          [warning.level, warning.field, warning.source, warning.evalSource],
          ["warn", "spec.data.evalSource", train, held],
        );
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }
});
