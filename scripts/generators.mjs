// The list of generators `npm run gen` runs and `npm run verify` checks. Generators import the
// built packages (dist), so run `npm run build` first.
import * as prettier from "prettier";

const root = new URL("..", import.meta.url).pathname;

/** Markdown goes through prettier so that `npm run lint` accepts what `npm run gen` writes. */
async function markdown(path, text) {
  const options = (await prettier.resolveConfig(root + path)) ?? {};
  return prettier.format(text, { ...options, filepath: path });
}

export const generators = [
  {
    name: "sfpromptjobs CRD, its Helm copy and docs/api.md (packages/api)",
    async generate() {
      const api = await import("../packages/api/dist/index.js");
      return [
        { path: api.CRD_PATH, content: api.crdYaml() },
        { path: api.HELM_CRD_PATH, content: api.helmCrdYaml() },
        { path: api.API_DOCS_PATH, content: await markdown(api.API_DOCS_PATH, api.apiReferenceMarkdown()) },
      ];
    },
  },
];
