// A client entry point (a real child process, a real nats-server) whose bundle folder
// (SFPROMPT_BUNDLE_DIR) or run config file the image's user, 10001, cannot read: a folder copied onto
// a node or volume as root with mode 0700, a file with 0600. The bundle folder looked empty ("holds no
// manifest.json; run sfprompt prepare into it") and the config gave only "EACCES"; both now name the
// path, the user and the chmod that fixes it. As root here, the process runs as 10001; as another
// user, the path is made unreadable to that user (mode 000) instead.
import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import { dirname } from "node:path";
import { describe, it } from "node:test";
import { ENTRY, runConfig, spawnEntry, useEntryFixtures, type LogLine } from "./harness.js";

const w = useEntryFixtures();
const IMAGE_USER = { uid: 10001, gid: 10001 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? IMAGE_USER.uid : (process.getuid?.() ?? -1);

/** The client's first config.invalid (or its readiness, which fails the test), and its exit code. */
async function firstVerdict(configFile: string): Promise<{ line: LogLine; code: number | null }> {
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
    return { line, code: (await proc.exited).code };
  } finally {
    proc.kill("SIGKILL");
  }
}

const cases = [
  {
    name: "a bundle folder it cannot read",
    unreadable: (): string => w.bundle.dir,
    mode: asRoot ? 0o700 : 0o000,
    field: "--bundle-dir / SFPROMPT_BUNDLE_DIR",
    fix: (path: string): string => `chmod -R a+rX ${path}`,
  },
  {
    name: "a run config file it cannot read",
    unreadable: (): string => w.tmp.write("unreadable-config.json", JSON.stringify(runConfig({}, "cfg"))),
    mode: asRoot ? 0o600 : 0o000,
    field: "(file)",
    fix: (path: string): string => `chmod a+r ${path}`,
  },
];

describe("a client whose bundle folder or run config the image's user cannot read", () => {
  for (const c of cases) {
    it(`names ${c.name}, the user that must read it and the chmod (config.invalid, exit 1)`, async () => {
      // the run's other files are readable by the image's user, as a pod's mounts are
      for (const d of [w.tmp.dir, dirname(w.bundle.dir), w.bundle.dir]) chmodSync(d, 0o755);
      const configFile = w.tmp.write("readable-config.json", JSON.stringify(runConfig({}, "readable")));
      chmodSync(configFile, 0o644);
      const path = c.unreadable();
      chmodSync(path, c.mode);
      try {
        const { line, code } = await firstVerdict(c.field === "(file)" ? path : configFile);
        assert.equal(line.field, c.field, JSON.stringify(line));
        const error = String(line.error);
        assert.match(error, new RegExp(`cannot be read by this process's user \\(uid ${uid}, `));
        assert.match(error, new RegExp(`make .* readable by uid ${uid}`));
        assert.ok(error.includes(c.fix(path)), error);
        assert.doesNotMatch(error, /holds no manifest\.json/);
        assert.equal(code, 1);
      } finally {
        chmodSync(path, 0o755);
      }
    });
  }
});
