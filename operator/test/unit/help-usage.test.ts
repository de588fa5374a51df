// `sfprompt-operator --help` run as the program (package.json's bin, from source): it prints every
// flag with its line of help, its variable and its default, as the flag tables the parsers read
// have them, and exits 0, before any other flag is checked; and the defaults it shows are the ones
// the parsers apply.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it, test } from "node:test";
import { fileURLToPath } from "node:url";
import { OPERATOR_FLAG_TABLE, parseConfig } from "../../src/config.js";
import { shownDefault, type FlagSpec } from "../../src/usage.js";
import { WEBHOOK_FLAG_TABLE, parseWebhookConfig } from "../../src/webhook/index.js";

const OPERATOR = fileURLToPath(new URL("../../", import.meta.url));
const TABLES: Record<string, FlagSpec>[] = [OPERATOR_FLAG_TABLE, WEBHOOK_FLAG_TABLE];

/** The bin's source file, as bin-entry.test.ts finds it. */
function binSource(): string {
  const pkg = JSON.parse(readFileSync(`${OPERATOR}package.json`, "utf8")) as { bin: Record<string, string> };
  const target = pkg.bin["sfprompt-operator"];
  assert.ok(target, "operator/package.json has no sfprompt-operator bin");
  return `${OPERATOR}${target.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")}`;
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", binSource(), ...args], {
    cwd: OPERATOR,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The usage's lines for `flag`: from its own line to the next flag's. */
function block(usage: string, flag: string): string {
  const lines = usage.split("\n");
  const start = lines.indexOf(`  ${flag}`);
  assert.ok(start >= 0, `the usage has no line for ${flag}`);
  const end = lines.findIndex((l, i) => i > start && /^ {2}-/.test(l));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

const cases: [string, string[]][] = [
  ["--help alone", ["--help"]],
  ["-h alone", ["-h"]],
  ["--help after an unknown flag and a bad value", ["--nope", "--workers=0", "--help"]],
];

describe("sfprompt-operator --help", () => {
  for (const [name, args] of cases) {
    it(`${name}: exits 0 with every flag's help, variable and default on stdout`, () => {
      const r = run(args);
      assert.equal(r.stderr, "");
      assert.equal(r.status, 0);
      const listed = r.stdout.split("\n").filter((l) => /^ {2}-/.test(l));
      assert.deepEqual(listed, [
        ...TABLES.flatMap((t) => Object.keys(t).map((f) => `  --${f}`)),
        "  -h, --help",
      ]);
      for (const table of TABLES) {
        for (const [flag, spec] of Object.entries(table)) {
          const lines = block(r.stdout, `--${flag}`);
          assert.ok(lines.includes(spec.help), `--${flag}: its help line`);
          assert.ok(lines.includes(`env ${spec.env}; default ${shownDefault(spec)}`), `--${flag}: ${lines}`);
        }
      }
    });
  }

  it("a flag that is not --help still exits 2 naming the flag", () => {
    const r = run(["--nope"]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /invalid configuration.*--nope/);
  });
});

/** Every flag of `table` given its default, as `--flag=value`. */
const allDefaults = (table: Record<string, FlagSpec>): string[] =>
  Object.entries(table).map(([flag, spec]) => `--${flag}=${spec.default}`);

test("giving every operator flag the default --help shows configures what giving none does", () => {
  assert.deepEqual(parseConfig(allDefaults(OPERATOR_FLAG_TABLE), {}), parseConfig([], {}));
});

test("giving every webhook flag the default --help shows configures what giving none does", () => {
  assert.deepEqual(parseWebhookConfig(allDefaults(WEBHOOK_FLAG_TABLE), {}), parseWebhookConfig([], {}));
});
