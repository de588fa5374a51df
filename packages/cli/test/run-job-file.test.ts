// What a new user of `sfprompt run` meets before anything runs: its --help, a mistyped flag, and a job
// file that is missing, a folder, not YAML, not an SFPromptJob, wrong in a field, or going on from
// another job's checkpoints without the --nats server that holds them. Each error names the file (or
// the flag) and says what to do; no process is started for any of them.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { METHODS } from "@sfprompt/api";
import { UsageError } from "../src/errors.js";
import { parseFlags, type FlagSpec } from "../src/flags.js";
import { assertUserError, ROOT, sfprompt } from "./run-helpers.js";

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A manifest whose spec is `spec` (YAML lines under spec:). */
function manifest(spec: string): string {
  return [
    "apiVersion: sfprompt.io/v1alpha1",
    "kind: SFPromptJob",
    "metadata: { name: tiny }",
    "spec:",
    spec,
  ].join("\n");
}

describe("sfprompt run's job file errors", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-job-file-"));
    mkdirSync(join(dir, "a-folder"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // [case, file name, its text (undefined: not written), what the message says after the path]
  const cases: Array<[string, string, string | undefined, RegExp]> = [
    [
      "a file that does not exist says so and what to give",
      "missing.yaml",
      undefined,
      /cannot read the job file \(ENOENT\): no such file; give the path of an SFPromptJob manifest/,
    ],
    [
      "a folder says to give the manifest file in it",
      "a-folder",
      undefined,
      /cannot read the job file \(EISDIR\): it is a folder; give the manifest file in it/,
    ],
    [
      "text that is not YAML gives the parser's line and column",
      "unclosed.yaml",
      "kind: [unclosed",
      /the manifest is not valid YAML: .*\(2:1\)/,
    ],
    [
      "a manifest of another kind says which kind it holds and which it needs",
      "configmap.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n",
      /the manifest holds no SFPromptJob \(it holds document 1: kind "ConfigMap"\); a job is a document with apiVersion: sfprompt\.io\/v1alpha1 and kind: SFPromptJob/,
    ],
    [
      "an empty file says it holds no SFPromptJob",
      "empty.yaml",
      "",
      /the manifest holds no SFPromptJob \(it is empty\)/,
    ],
    [
      "a misspelt field names it and where the fields are listed",
      "misspelt.yaml",
      manifest("  trainin: { rounds: 2 }"),
      /invalid SFPromptJob:\n\s+spec\.trainin: is not a field here; check the spelling \(kubectl explain sfpromptjob\.spec/,
    ],
    [
      "a field of the wrong type names it and the value",
      "wrong-type.yaml",
      manifest("  clients: { count: two }"),
      /invalid SFPromptJob:\n\s+spec\.clients\.count: must be a number \(got "two"\)/,
    ],
    [
      "resumeFrom without --nats names the field and asks for the server the source job ran on",
      "resume-from.yaml",
      manifest("  output: { resumeFrom: { job: failed-run } }"),
      /spec\.output\.resumeFrom\.job failed-run: that job's checkpoints are on the NATS server it ran on, .*give that server with --nats URL, or drop spec\.output\.resumeFrom/,
    ],
  ];
  for (const [name, file, text, message] of cases)
    it(name, () => {
      const path = join(dir, file);
      if (text !== undefined) writeFileSync(path, text);
      const out = join(dir, `never-${file}`);
      const r = sfprompt("run", path, "--out", out);
      assertUserError(r, new RegExp(`^sfprompt run: ${escaped(path)}: ${message.source}`, "m"));
      assert.equal(existsSync(out), false, "nothing was started or written");
    });
});

describe("sfprompt run --help and its flags", () => {
  it("describes the JOB argument, every baseline --methods takes, and the exit codes", () => {
    const r = sfprompt("run", "--help");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^arguments:\n\s+JOB\s+the SFPromptJob manifest/m);
    const methods = /--methods LIST\s+(.*)$/m.exec(r.stdout)?.[1] ?? "";
    for (const m of METHODS.filter((x) => x !== "sfprompt"))
      assert.ok(methods.includes(m), `${m} in: ${methods}`);
    for (const code of ["0", "1", "2", "129", "130", "141"])
      assert.match(r.stdout, new RegExp(`\\b${code} [a-zA-Z]`), `exit code ${code} is explained`);
  });

  it("prints the same help for `sfprompt help run`", () => {
    const r = sfprompt("help", "run");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, sfprompt("run", "--help").stdout);
  });

  it("refuses `sfprompt help` of an unknown command as that command, guessing it written with help (exit 2)", () => {
    const r = sfprompt("help", "rnu");
    assert.equal(r.code, 2, r.stdout);
    assert.match(
      r.stderr,
      /^sfprompt: unknown command "rnu" \(did you mean help run\?\)\n\nusage: sfprompt <command>/,
    );
  });

  it("prints its version for --version, -V and `sfprompt version`, as kubectl and helm users type", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "packages/cli/package.json"), "utf8")) as {
      version: string;
    };
    for (const args of [["--version"], ["-V"], ["version"]]) {
      const r = sfprompt(...args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, `sfprompt ${pkg.version}\n`, args.join(" "));
    }
    assert.match(sfprompt("--help").stdout, /sfprompt --version/, "the main help says how to get it");
  });

  it("suggests the command nearest a mistyped one, as for a mistyped flag (exit 2)", () => {
    const typo = sfprompt("trafic", "examples/demo-job.yaml");
    assert.equal(typo.code, 2, typo.stdout);
    assert.match(
      typo.stderr,
      /^sfprompt: unknown command "trafic" \(did you mean traffic\?\)\n\nusage: sfprompt <command>/,
    );
    const far = sfprompt("frobnicate");
    assert.equal(far.code, 2, far.stdout);
    assert.match(far.stderr, /^sfprompt: unknown command "frobnicate"\n\n/, "no command is near: no guess");
  });

  const specs: FlagSpec[] = [
    { name: "rounds", description: "rounds" },
    { name: "fresh", description: "fresh", boolean: true },
    { name: "out", description: "out" },
  ];
  const positionals = [{ name: "job", description: "job", required: true }];
  // [case, argv, what the usage error says]
  const flagCases: Array<[string, string[], RegExp]> = [
    [
      "a flag one letter short is named",
      ["job.yaml", "--round", "3"],
      /unknown flag --round \(did you mean --rounds\?\)/,
    ],
    [
      "two letters swapped are named",
      ["job.yaml", "--fersh"],
      /unknown flag --fersh \(did you mean --fresh\?\)/,
    ],
    [
      "a flag with one dash is not taken for the JOB argument",
      ["-rounds", "3", "job.yaml"],
      /unknown flag -rounds; flags start with -- \(did you mean --rounds\?\)/,
    ],
    ["a flag near none gets no guess", ["job.yaml", "--compare-all"], /unknown flag --compare-all; see/],
  ];
  for (const [name, argv, message] of flagCases)
    it(name, () =>
      assert.throws(
        () => parseFlags(argv, specs, "run", positionals),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      ),
    );

  it("exits 2 on a mistyped flag, with the flag it meant and the usage", () => {
    const r = sfprompt("run", "job.yaml", "--round", "3");
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /unknown flag --round \(did you mean --rounds\?\)[^\n]*\nusage: sfprompt run JOB\.yaml/,
    );
  });
});
