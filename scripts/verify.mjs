#!/usr/bin/env node
// Fails when a generated file differs from what `npm run gen` would write now (from src: each
// generator builds the package it reads first).
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { generators, GeneratorBuildError } from "./generators.mjs";

const root = new URL("..", import.meta.url).pathname;
let stale = 0;
try {
  for (const g of generators) {
    for (const f of await g.generate()) {
      const p = join(root, f.path);
      const now = existsSync(p) ? readFileSync(p, "utf8") : null;
      if (now !== f.content) {
        console.error(
          `verify: ${f.path} is ${now === null ? "missing" : "out of date"}; run \`npm run gen\` and commit the result`,
        );
        stale++;
      }
    }
  }
} catch (err) {
  if (!(err instanceof GeneratorBuildError)) throw err;
  console.error(err.message.replace(/^gen:/, "verify:"));
  process.exit(1);
}
if (stale > 0) process.exit(1);
console.log(`verify: generated files are up to date`);
