#!/usr/bin/env node
// Regenerates every generated file (CRDs, Helm copies, schema docs). Each generator is a module
// exporting `generate(): Promise<Array<{ path: string; content: string }>>`; it builds what it reads.
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { generators, GeneratorBuildError } from "./generators.mjs";

const root = new URL("..", import.meta.url).pathname;
try {
  for (const g of generators) {
    for (const f of await g.generate()) {
      const p = join(root, f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, f.content);
      console.log(`gen: wrote ${f.path}`);
    }
  }
} catch (err) {
  if (!(err instanceof GeneratorBuildError)) throw err;
  console.error(err.message);
  process.exit(1);
}
