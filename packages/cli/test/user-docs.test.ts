// The user docs (README.md, docs/*.md) against the CLI and the tree as they are: every flag a command
// takes is in its usage line and in the docs, every flag the docs give a command exists, and every
// relative link or repository path the docs name is there.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../src/commands/index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const TEXT = new Map(DOCS.map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));
const ALL_TEXT = [...TEXT.values()].join("\n");
/** What runs `sfprompt run`: scripts/demo.sh hands its arguments to it. */
const ALIASES: Record<string, string> = { "scripts/demo.sh": "run" };

/** Whether text names --flag itself (not --flag-longer). */
function flagIn(flag: string, text: string): boolean {
  return new RegExp(`--${flag}(?![a-z0-9-])`).test(text);
}

interface Invocation {
  readonly file: string;
  readonly command: string;
  readonly flags: readonly string[];
}

/** Inline code spans and code-block commands (backslash continuations joined) of a markdown text. */
function codeSnippets(text: string): string[] {
  const snippets: string[] = [];
  const blocks = text.split(/^```/m);
  blocks.forEach((block, i) => {
    if (i % 2 === 1) snippets.push(...block.replace(/\\\n/g, " ").split("\n"));
    else for (const m of block.matchAll(/`([^`\n]+)`/g)) snippets.push(m[1] ?? "");
  });
  return snippets;
}

/** Every `sfprompt <command> … --flag` (or an alias of it) in the docs, with the flags that follow it. */
function invocations(): Invocation[] {
  const names = COMMANDS.map((c) => c.name).join("|");
  const aliases = Object.keys(ALIASES)
    .map((a) => a.replace(/[./]/g, "\\$&"))
    .join("|");
  const start = new RegExp(`(?:\\bsfprompt (${names})\\b|(${aliases}))`, "g");
  const found: Invocation[] = [];
  for (const [file, text] of TEXT) {
    for (const snippet of codeSnippets(text)) {
      const starts = [...snippet.matchAll(start)];
      starts.forEach((m, i) => {
        // a comment ends the command line (`# add --compare`: prose, not a flag given)
        const rest = snippet.slice(m.index, starts[i + 1]?.index).split(/\s#\s/)[0] ?? "";
        const flags = [...rest.matchAll(/(?:^|[\s[|])--([a-z][a-z0-9-]*)/g)].map((f) => f[1] ?? "");
        found.push({ file, command: m[1] ?? ALIASES[m[2] ?? ""] ?? "", flags });
      });
    }
  }
  return found;
}

describe("the docs and the CLI's flags", () => {
  for (const command of COMMANDS) {
    it(`sfprompt ${command.name}'s usage line names every flag it takes`, () => {
      const missing = command.flags.filter((f) => !flagIn(f.name, command.usage));
      assert.deepEqual(
        missing.map((f) => `--${f.name}`),
        [],
        `usage: ${command.usage}`,
      );
    });

    it(`every flag of sfprompt ${command.name} is in README.md or docs/*.md`, () => {
      const missing = command.flags.filter((f) => !flagIn(f.name, ALL_TEXT));
      assert.deepEqual(
        missing.map((f) => `--${f.name}`),
        [],
      );
    });
  }

  it("the docs show every command, and give each only flags it takes", () => {
    const found = invocations();
    for (const command of COMMANDS)
      assert.ok(
        found.some((i) => i.command === command.name),
        `no doc shows sfprompt ${command.name}`,
      );
    const unknown = found.flatMap((i) => {
      const command = COMMANDS.find((c) => c.name === i.command);
      const known = new Set(["help", ...(command?.flags.map((f) => f.name) ?? [])]);
      return i.flags.filter((f) => !known.has(f)).map((f) => `${i.file}: sfprompt ${i.command} --${f}`);
    });
    assert.deepEqual(unknown, []);
  });
});

describe("the docs' links and paths", () => {
  /** `a/{b,c}.ts` → a/b.ts, a/c.ts, as the docs abbreviate sibling files. */
  function expand(path: string): string[] {
    const m = /\{([^{}]*)\}/.exec(path);
    if (m === null) return [path];
    const [before, after] = [path.slice(0, m.index), path.slice(m.index + m[0].length)];
    return (m[1] ?? "").split(",").flatMap((alt) => expand(before + alt + after));
  }

  it("every relative markdown link resolves to a file or folder", () => {
    const broken: string[] = [];
    for (const [file, text] of TEXT)
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] ?? "";
        if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
        const path = resolve(join(ROOT, dirname(file)), target.split("#")[0] ?? "");
        if (!existsSync(path)) broken.push(`${file}: (${target})`);
      }
    assert.deepEqual(broken, []);
  });

  it("every repository path named in code (docs/…, examples/…, bench/…) exists", () => {
    const top = "docs|bench|examples|scripts|images|helm|packages|operator|e2e|crds";
    const missing: string[] = [];
    for (const [file, text] of TEXT)
      for (const m of text.matchAll(new RegExp(`\`((?:${top})/[^\`\\s]*)\``, "g")))
        for (const path of expand((m[1] ?? "").replace(/[.,:;]$/, ""))) {
          // placeholders: runs/<job>/, compare-*.svg, …
          if (/[<*…]/.test(path)) continue;
          if (!existsSync(join(ROOT, path))) missing.push(`${file}: ${path}`);
        }
    assert.deepEqual(missing, []);
  });
});
