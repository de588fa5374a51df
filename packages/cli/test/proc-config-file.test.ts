// A server or client process of `sfprompt run` whose own config file (configs/<method>.json, which the
// run writes for each session) cannot be used: it logs config.invalid naming the file and the field,
// exit 1, no stack, as the images log a run config they cannot use; and the run's message quotes it
// and says the file is written anew by a new run. It died on an uncaught error with a stack and no
// JSON line, and the run said only "exited (code 1, signal null)".
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { applyDefaults, toRunConfig } from "@sfprompt/api";
import { failureOf, startChild, type Role } from "../src/run/children.js";
import { reasonOf } from "../src/run/follow-job.js";

/** A process config as sfprompt run writes it, for a job of the defaults. */
function goodConfig(dir: string): Record<string, unknown> {
  const job = applyDefaults({
    apiVersion: "sfprompt.io/v1alpha1",
    kind: "SFPromptJob",
    metadata: { name: "proc-config" },
    spec: { model: { source: { builtin: "demo" } }, data: { source: { builtin: "mnist" } } },
  });
  return {
    runConfig: toRunConfig(job),
    natsUrl: "nats://127.0.0.1:1",
    bundleDir: join(dir, "bundle"),
    modelPath: join(dir, "model.onnx"),
  };
}

describe("a run's process whose config file it cannot use", () => {
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "cli-proc-config-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{
    name: string;
    role: Role;
    write: (file: string) => void;
    field: string;
    says: RegExp;
  }> = [
    {
      name: "a file cut short is not JSON",
      role: "client",
      write: (file) => writeFileSync(file, JSON.stringify(goodConfig(dir)).slice(0, 40)),
      field: "(file)",
      says: /: \(file\): is not JSON: /,
    },
    {
      name: "a file that is not there cannot be read",
      role: "server",
      write: () => undefined,
      field: "(file)",
      says: /: \(file\): cannot be read: ENOENT/,
    },
    {
      name: "a run config the runtime cannot take names its field",
      role: "client",
      write: (file) => {
        const c = goodConfig(dir) as { runConfig: { training: { rounds: number } } };
        c.runConfig.training.rounds = 0;
        writeFileSync(file, JSON.stringify(c));
      },
      field: "runConfig.training.rounds",
      says: /: runConfig\.training\.rounds: /,
    },
    {
      name: "a config without the NATS URL names natsUrl",
      role: "server",
      write: (file) => {
        const { natsUrl: _, ...rest } = goodConfig(dir);
        writeFileSync(file, JSON.stringify(rest));
      },
      field: "natsUrl",
      says: /: natsUrl: is required/,
    },
    // not the user's SFPromptJob: no "kubectl explain sfpromptjob.runConfig…", whose paths kubectl
    // does not know; the run's message says the file is sfprompt's to write
    {
      name: "a field the run config does not have names it, with no kubectl explain",
      role: "client",
      write: (file) => {
        const c = goodConfig(dir) as { runConfig: { training: Record<string, unknown> } };
        c.runConfig.training["roundz"] = 3;
        writeFileSync(file, JSON.stringify(c));
      },
      field: "runConfig.training.roundz",
      says: /: runConfig\.training\.roundz: is not a field here; check the spelling$/,
    },
    {
      name: "a number where the run config has a mapping names it, with no kubectl explain",
      role: "server",
      write: (file) => {
        const c = goodConfig(dir) as { runConfig: Record<string, unknown> };
        c.runConfig["training"] = 4;
        writeFileSync(file, JSON.stringify(c));
      },
      field: "runConfig.training",
      says: /: runConfig\.training: must be a mapping \(got 4\)$/,
    },
  ];
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: config.invalid with the file and field, exit 1, quoted by the run`, async () => {
      const file = join(dir, `config-${i}.json`);
      c.write(file);
      const child = startChild(c.role, file, join(dir, `logs-${i}`), c.role === "client" ? 0 : undefined);
      const exit = await child.exited;
      await child.logged;
      const log = readFileSync(child.logFile, "utf8");
      assert.equal(exit.code, 1, log);
      assert.doesNotMatch(log, /\n\s+at /, "no stack");
      const lines = log.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, log);
      const e = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.deepEqual(
        [e["event"], e["role"], e["path"], e["field"]],
        ["config.invalid", c.role, file, c.field],
      );
      assert.ok(String(e["error"]).startsWith(`${file}: ${c.field}: `), String(e["error"]));
      assert.match(String(e["error"]), c.says);
      assert.doesNotMatch(String(e["error"]), /kubectl/);
      assert.deepEqual(await failureOf(child), {
        kind: "config-file",
        path: file,
        field: c.field,
        error: e["error"],
      });
      const anew = "sfprompt run writes that file anew for every session from the job file: run again";
      const bug =
        "; it wrote that field from a job file it accepted, so if this recurs it is a bug in sfprompt: report it with the job file and this message";
      assert.equal(
        await reasonOf(child, "failed"),
        `could not use its config file: ${child.name}: ${String(e["error"])}; ${anew}${c.field === "(file)" ? "" : bug}`,
      );
    });
  }
});
