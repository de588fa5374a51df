// "did you mean": a guess only for a slip (a few edits relative to the words), over the CLI's real
// command and flag names. A one- or two-letter word two edits from a three-letter command ("r",
// "rx") was offered "run": any short word was two edits from some short name.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMANDS } from "../src/commands/index.js";
import { nearestName } from "../src/nearest-name.js";
import { sfprompt } from "./run-helpers.js";

const commands = COMMANDS.map((c) => c.name);
const flagsOf = (command: string): string[] =>
  COMMANDS.find((c) => c.name === command)!.flags.map((f) => f.name);

describe("nearestName", () => {
  // [typed, the names, the guess]
  const cases: Array<[string, string, readonly string[], string | undefined]> = [
    ["one letter is no command", "r", commands, undefined],
    ["another single letter", "x", commands, undefined],
    ["two letters one of which is in run", "rx", commands, undefined],
    ["the first two letters of grad", "gr", commands, undefined],
    ["two letters near nothing", "ls", commands, undefined],
    ["run one letter short", "ru", commands, "run"],
    ["run with two letters swapped", "rnu", commands, "run"],
    ["run with a letter replaced", "rum", commands, "run"],
    ["run in capitals", "RUN", commands, "run"],
    ["traffic one letter short", "trafic", commands, "traffic"],
    ["traffic with two letters swapped", "trafifc", commands, "traffic"],
    ["grad with two letters swapped", "grda", commands, "grad"],
    ["demo-model without its dash", "demomodel", commands, "demo-model"],
    ["a word near no command", "frobnicate", commands, undefined],
    ["a prefix three edits short", "pre", commands, undefined],
    ["--rounds one letter short", "round", flagsOf("run"), "rounds"],
    ["--fresh with two letters swapped", "fersh", flagsOf("run"), "fresh"],
    ["--out one letter short", "ot", flagsOf("run"), "out"],
    ["one letter is no flag", "o", flagsOf("run"), undefined],
    [
      "--samples-per-client with two letters swapped",
      "sampels-per-client",
      flagsOf("traffic"),
      "samples-per-client",
    ],
    ["a flag near none", "compare-all", flagsOf("run"), undefined],
  ];
  for (const [name, typed, names, guess] of cases)
    it(`${name}: "${typed}" -> ${guess ?? "no guess"}`, () => assert.equal(nearestName(typed, names), guess));

  it("the CLI guesses for a slip and not for a one-letter command (exit 2 both)", () => {
    const one = sfprompt("r");
    assert.equal(one.code, 2, one.stdout);
    assert.match(one.stderr, /^sfprompt: unknown command "r"\n\n/);
    const slip = sfprompt("rnu");
    assert.equal(slip.code, 2, slip.stdout);
    assert.match(slip.stderr, /^sfprompt: unknown command "rnu" \(did you mean run\?\)\n\n/);
  });

  it("the CLI guesses help and version too, which are not in the command table (exit 2)", () => {
    const slips: Array<[string, string]> = [
      ["verison", "version"],
      ["hlep", "help"],
    ];
    for (const [typo, meant] of slips) {
      const r = sfprompt(typo);
      assert.equal(r.code, 2, r.stdout);
      assert.match(
        r.stderr,
        new RegExp(`^sfprompt: unknown command "${typo}" \\(did you mean ${meant}\\?\\)\n\n`),
      );
    }
  });

  it("after help it guesses only a command, written with help (exit 2)", () => {
    // "hlep" after help is no slip for the help already typed; "rnu" after it is one for run
    const cases: Array<[string, string]> = [
      ["hlep", ""],
      ["verison", ""],
      ["rnu", " \\(did you mean help run\\?\\)"],
      ["trafic", " \\(did you mean help traffic\\?\\)"],
    ];
    for (const [typo, hint] of cases) {
      const r = sfprompt("help", typo);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, new RegExp(`^sfprompt: unknown command "${typo}"${hint}\n\n`));
    }
  });
});
