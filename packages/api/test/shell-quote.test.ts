// shellQuote: a path as one word of a command that a message suggests. Each word goes through a real
// bash (and sh) and must come back as it was, as one argument: a space, quote or $ pasted unquoted
// split the command or expanded in it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { shellQuote } from "../src/shell-quote.js";

/** The arguments `shell` passes to a command line ending in `word`, one per line of printf. */
function argsOf(shell: string, word: string): string[] {
  const r = spawnSync(shell, ["-c", `printf '%s\\0' ${word}`], {
    encoding: "utf8",
    env: { HOME: "/home/x" },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\0").slice(0, -1);
}

const words: Array<[string, string]> = [
  ["a plain absolute path", "/data/runs/demo-1/bundle"],
  ["a path with a space", "/data/my run"],
  ["a path with a single quote", "/data/it's mine/train.jsonl"],
  ["a path with $ and backquotes", "/data/$HOME/`id`/$(id)"],
  ["a path with a glob, a semicolon and a newline", "/data/*; rm -rf x\nnext"],
  ["a path with double quotes and a backslash", '/data/"a"\\b'],
  ["a path with two quotes in a row", "/data/''x"],
  ["an empty word", ""],
];

describe("shellQuote", () => {
  for (const shell of ["bash", "sh"])
    for (const [name, word] of words)
      it(`${shell} reads back ${name} as one argument, unchanged`, () => {
        assert.deepEqual(argsOf(shell, shellQuote(word)), [word]);
      });

  it("leaves a path of plain characters as it is (messages read as before)", () => {
    const plain = "/tmp/cli-run-x/out-1/bundle_2.onnx,a=b:c@d%e+f";
    assert.equal(shellQuote(plain), plain);
    assert.notEqual(shellQuote("/data/my run"), "/data/my run");
  });
});
