// scripts/setup.sh (the demo's first step) decides whether to install nats-server with
// scripts/find-nats-server.sh: it must find the binary where `sfprompt run` does, also when PATH lacks
// /usr/sbin (a non-root user's PATH on Debian, whose package installs /usr/sbin/nats-server).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findNatsServer } from "@sfprompt/protocol";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = fileURLToPath(new URL("../../../scripts/find-nats-server.sh", import.meta.url));

/** What the script prints (undefined when it exits 1) under `env`. */
function script(env: Record<string, string>): string | undefined {
  const r = spawnSync("/bin/bash", [SCRIPT], { env, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** What `sfprompt run` resolves under `env` (undefined when it finds none). */
function runtime(env: Record<string, string>): string | undefined {
  const saved = { PATH: process.env.PATH, NATS_SERVER_BIN: process.env.NATS_SERVER_BIN };
  process.env.PATH = env.PATH ?? "";
  if (env.NATS_SERVER_BIN === undefined) delete process.env.NATS_SERVER_BIN;
  else process.env.NATS_SERVER_BIN = env.NATS_SERVER_BIN;
  try {
    return findNatsServer();
  } catch {
    return undefined;
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.NATS_SERVER_BIN === undefined) delete process.env.NATS_SERVER_BIN;
    else process.env.NATS_SERVER_BIN = saved.NATS_SERVER_BIN;
  }
}

describe("scripts/setup.sh finds nats-server as sfprompt run does", () => {
  const installed = findNatsServer();
  const cases: Array<[string, Record<string, string>]> = [
    ["a non-root user's PATH, without the sbin folders", { PATH: "/usr/local/bin:/usr/bin:/bin" }],
    ["the full PATH", { PATH: process.env.PATH ?? "" }],
    ["NATS_SERVER_BIN naming the binary", { PATH: "/bin", NATS_SERVER_BIN: installed }],
    ["NATS_SERVER_BIN naming nothing", { PATH: process.env.PATH ?? "", NATS_SERVER_BIN: "/nonexistent" }],
  ];
  for (const [name, env] of cases)
    it(`with ${name}`, () => {
      const want = runtime(env);
      assert.equal(script(env), want);
      if (env.NATS_SERVER_BIN !== "/nonexistent") assert.equal(want, installed, "it is found");
    });

  it("is what setup.sh asks before installing the Debian package", () => {
    const setup = readFileSync(`${ROOT}/scripts/setup.sh`, "utf8");
    assert.match(setup, /^bash scripts\/find-nats-server\.sh >\/dev\/null \|\| need_apt\+=\(nats-server\)$/m);
  });
});
