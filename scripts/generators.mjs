// The list of generators `npm run gen` runs and `npm run verify` checks. Generators import the
// built packages (dist); each builds the package it reads first, so a dist older than its src
// never ends up in a generated file (or passes verify).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as prettier from "prettier";

const repoRoot = new URL("..", import.meta.url).pathname;
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

/** Thrown when the package a generator reads does not build; the generated files are left alone. */
export class GeneratorBuildError extends Error {
  constructor(project, output, options) {
    super(
      `gen: \`tsc -b ${project}\` failed, so no generated file was written or checked; fix:\n${output}`,
      options,
    );
    this.name = "GeneratorBuildError";
  }
}

/** `tsc -b` is incremental: when dist is newer than src it returns at once. */
function build(root, project) {
  const r = spawnSync(process.execPath, [tsc, "-b", join(root, project)], { cwd: root, encoding: "utf8" });
  if (r.error !== undefined) throw new GeneratorBuildError(project, r.error.message, { cause: r.error });
  if (r.status !== 0) throw new GeneratorBuildError(project, `${r.stdout}${r.stderr}`.trim());
}

/** Markdown goes through prettier so that `npm run lint` accepts what `npm run gen` writes. */
async function markdown(root, path, text) {
  const options = (await prettier.resolveConfig(join(root, path))) ?? {};
  return prettier.format(text, { ...options, filepath: path });
}

/** The generators for the tree at `root` (the repository; tests pass a copy). */
export function generatorsFor(root) {
  return [
    {
      name: "sfpromptjobs CRD, its Helm copy and docs/api.md (packages/api)",
      async generate() {
        build(root, "packages/api");
        const api = await import(pathToFileURL(join(root, "packages/api/dist/index.js")).href);
        return [
          { path: api.CRD_PATH, content: api.crdYaml() },
          { path: api.HELM_CRD_PATH, content: api.helmCrdYaml() },
          {
            path: api.API_DOCS_PATH,
            content: await markdown(root, api.API_DOCS_PATH, api.apiReferenceMarkdown()),
          },
        ];
      },
    },
  ];
}

export const generators = generatorsFor(repoRoot);
