// `sfprompt run` on a JSONL file or image folder that the run's user cannot read (copied in place by
// root with mode 0600, say): the local server/client process said "cannot load: EACCES…" or "JSONL
// file is not readable; check the path"; it now names the file, the run's user and the chmod, as the
// images do. A real run: the CLI (as nobody when the test runs as root, since root reads any file),
// nats-server and the local processes, real files.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { loadableAs } from "../../sfprompt/test/checkout-for-user.js";
import { writeTinyJob, type CliResult } from "./run-helpers.js";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
/** nobody: as root, the run's user is played by running the CLI as nobody. */
const OTHER_USER = { uid: 65534, gid: 65534 };
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? OTHER_USER.uid : (process.getuid?.() ?? -1);

function sfpromptAsRunUser(...args: string[]): CliResult {
  // from a copy of the checkout where nobody cannot read it (a clone under /root)
  const at = loadableAs(asRoot ? OTHER_USER : undefined, MAIN);
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", at.file, ...args], {
    cwd: at.root,
    encoding: "utf8",
    timeout: 180_000,
    killSignal: "SIGKILL",
    ...(asRoot ? OTHER_USER : {}),
    // tsx keeps its cache in the temp folder per user; the CLI's cache is not used (a model file)
    env: { ...process.env, HOME: tmpdir(), SFPROMPT_CACHE: join(tmpdir(), `sfprompt-cache-${uid}`) },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const line = (i: number): string =>
  JSON.stringify({ x: Array.from({ length: 784 }, (_, j) => ((i + j) % 7) / 7), label: i % 3 });

/** A JSONL file of `n` 28×28 samples over 3 classes. */
function writeJsonl(file: string, n: number): void {
  writeFileSync(file, `${Array.from({ length: n }, (_, i) => line(i)).join("\n")}\n`);
}

/** <dir>/<label>/<i>.pgm (binary P5 28×28), `n` samples over 3 classes. */
function writeFolder(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    mkdirSync(join(dir, String(i % 3)), { recursive: true });
    const header = Buffer.from(`P5\n28 28\n255\n`);
    writeFileSync(join(dir, String(i % 3), `${i}.pgm`), Buffer.concat([header, Buffer.alloc(784, i * 9)]));
  }
}

/** The tiny job of run-helpers with `data` in place of its built-in MNIST. */
function jobWithData(dir: string, data: string[]): string {
  const tiny = readFileSync(writeTinyJob(dir, "{ rounds: 1, batchSize: 8 }"), "utf8").split("\n");
  tiny.splice(tiny.indexOf("  data:"), 3, "  data:", ...data.map((l) => `    ${l}`));
  const file = join(dir, "own.yaml");
  writeFileSync(
    file,
    tiny.join("\n").replace("clients: { count: 2 }", "clients: { count: 2 }\n  classes: { numClasses: 3 }"),
  );
  return file;
}

const cases = [
  {
    name: "a JSONL file",
    write: (d: string): { path: string; unreadable: string; data: string[] } => {
      writeJsonl(join(d, "train.jsonl"), 24);
      writeJsonl(join(d, "test.jsonl"), 12);
      const path = join(d, "train.jsonl");
      return {
        path,
        unreadable: path,
        data: [
          `source: { jsonl: { path: ${JSON.stringify(path)} } }`,
          `evalSource: { jsonl: { path: ${JSON.stringify(join(d, "test.jsonl"))} } }`,
        ],
      };
    },
    fix: (path: string): string => `chmod a+r ${path}`,
  },
  {
    name: "an image folder with one unreadable image",
    write: (d: string): { path: string; unreadable: string; data: string[] } => {
      const path = join(d, "train");
      writeFolder(path, 24);
      writeFolder(join(d, "test"), 12);
      return {
        path,
        unreadable: join(path, "1", "4.pgm"),
        data: [
          `source: { imageFolder: { path: ${JSON.stringify(path)} } }`,
          `evalSource: { imageFolder: { path: ${JSON.stringify(join(d, "test"))} } }`,
          "partitioning: { strategy: none }",
        ],
      };
    },
    fix: (path: string): string => `chmod -R a+rX ${path}`,
  },
];

describe("sfprompt run on data the run's user cannot read", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-unreadable-data-"));
    chmodSync(dir, 0o777);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [i, c] of cases.entries()) {
    it(`names ${c.name}, the run's user and the chmod that fixes it (exit 1)`, () => {
      const d = join(dir, `case-${i}`);
      mkdirSync(d, { mode: 0o777 });
      chmodSync(d, 0o777);
      const data = c.write(d);
      const job = jobWithData(d, data.data);
      chmodSync(data.unreadable, asRoot ? 0o600 : 0o000);
      const r = sfpromptAsRunUser("run", job, "--out", join(d, "out"));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /spec\.data\.source/);
      assert.ok(
        r.stderr.includes(`${data.unreadable} cannot be read by this process's user (uid ${uid}, `),
        r.stderr,
      );
      assert.match(r.stderr, new RegExp(`make .* readable by uid ${uid} on this machine`));
      assert.ok(r.stderr.includes(c.fix(data.path)), r.stderr);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    });
  }
});
