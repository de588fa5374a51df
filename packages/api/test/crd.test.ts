// The generated CRD is a valid Kubernetes structural schema, carries what kubectl needs, and is
// what `npm run gen` wrote. Acceptance by a real kube-apiserver is tested in operator/.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import { parse } from "@marcbachmann/cel-js";
import {
  buildCrd,
  crdYaml,
  helmCrdYaml,
  CRD_PATH,
  HELM_CRD_PATH,
  PRINTER_COLUMNS,
  rootJsonSchema,
  specJsonSchema,
  statusJsonSchema,
  toStructural,
  StructuralSchemaError,
  type SchemaNode,
} from "../src/index.js";
import { applyDefaults, celErrors, validate, walkSchema } from "./helpers/openapi.js";

const FORBIDDEN = [
  "$ref",
  "$defs",
  "definitions",
  "$schema",
  "const",
  "oneOf",
  "allOf",
  "not",
  "propertyNames",
  "patternProperties",
];
const root = new URL("../../../", import.meta.url).pathname;

function nodes(): { node: SchemaNode; path: string }[] {
  const out: { node: SchemaNode; path: string }[] = [];
  walkSchema(rootJsonSchema(), (node, path) => out.push({ node, path }));
  return out;
}

describe("generated CRD", () => {
  it("gives every node a type (or marks it int-or-string)", () => {
    const untyped = nodes().filter(
      (n) => n.node.type === undefined && n.node["x-kubernetes-int-or-string"] !== true,
    );
    assert.deepEqual(
      untyped.map((n) => n.path),
      [],
    );
  });

  it("uses no keyword a structural schema forbids", () => {
    const bad = nodes().flatMap((n) => FORBIDDEN.filter((k) => k in n.node).map((k) => `${n.path}: ${k}`));
    assert.deepEqual(bad, []);
  });

  it("never combines properties with additionalProperties, nor uses additionalProperties: false", () => {
    const bad = nodes().filter(
      (n) =>
        n.node.additionalProperties === false ||
        (n.node.properties !== undefined && n.node.additionalProperties !== undefined),
    );
    assert.deepEqual(
      bad.map((n) => n.path),
      [],
    );
  });

  it("uses anyOf only in the int-or-string form", () => {
    const bad = nodes().filter(
      (n) =>
        n.node.anyOf !== undefined &&
        (n.node["x-kubernetes-int-or-string"] !== true ||
          JSON.stringify(n.node.anyOf) !== JSON.stringify([{ type: "integer" }, { type: "string" }])),
    );
    assert.deepEqual(
      bad.map((n) => n.path),
      [],
    );
  });

  it("describes every spec and status field for kubectl explain", () => {
    const spec = nodes().filter((n) => /^\.(spec|status)\./.test(n.path) && !/\[\*\]|\[\]$/.test(n.path));
    assert.deepEqual(
      spec.filter((n) => typeof n.node.description !== "string").map((n) => n.path),
      [],
    );
  });

  it("says under numClasses that it must cover the data's labels, which a job is refused for", () => {
    const classes = nodes().find((n) => n.path === ".spec.classes.numClasses");
    assert.match(String(classes?.node.description), /Must cover the data's labels/);
  });

  it("has defaults that are valid against their own schema", () => {
    const bad = nodes().flatMap((n) => {
      if (n.node.default === undefined) return [];
      const defaulted = applyDefaults(n.node, structuredClone(n.node.default));
      return validate(n.node, defaulted, n.path);
    });
    assert.deepEqual(bad, []);
  });

  it("has defaults that pass their node's CEL rules as written, before nested defaults (the API server checks this)", () => {
    const bad = nodes().flatMap((n) =>
      n.node.default === undefined
        ? []
        : celErrors(n.node, structuredClone(n.node.default), undefined, n.path),
    );
    assert.deepEqual(bad, []);
  });

  it("has CEL rules that parse, with messages and field paths the API server accepts", () => {
    const paths = new Set(nodes().map((n) => n.path));
    const rules = nodes().flatMap((n) =>
      (
        (n.node["x-kubernetes-validations"] as { rule: string; message: string; fieldPath?: string }[]) ?? []
      ).map((r) => ({ ...r, at: n.path })),
    );
    assert.ok(rules.length >= 10);
    for (const r of rules) {
      assert.doesNotThrow(() => parse(r.rule), `${r.at}: ${r.rule}`);
      assert.ok(r.message.length > 0 && !r.message.includes("\n"), r.at);
      if (r.fieldPath !== undefined)
        assert.ok(paths.has(r.at + r.fieldPath), `${r.at}: no field ${r.fieldPath}`);
    }
  });

  it("keeps list-map keys required, as the API server demands", () => {
    const lists = nodes().filter((n) => n.node["x-kubernetes-list-type"] === "map");
    assert.ok(lists.length >= 2);
    for (const l of lists) {
      const keys = l.node["x-kubernetes-list-map-keys"] as string[];
      const required = ((l.node.items as SchemaNode).required as string[]) ?? [];
      assert.deepEqual(
        keys.filter((k) => !required.includes(k)),
        [],
        l.path,
      );
    }
  });

  it("points every printer column at a field of the schema", () => {
    const paths = new Set(nodes().map((n) => n.path));
    for (const c of PRINTER_COLUMNS) {
      if (c.jsonPath.startsWith(".metadata.")) continue;
      assert.ok(paths.has(c.jsonPath), `${c.name}: ${c.jsonPath} is not in the schema`);
    }
    const byName = Object.fromEntries(PRINTER_COLUMNS.map((c) => [c.name, c.jsonPath]));
    assert.deepEqual(
      ["Phase", "Round", "Accuracy", "Bytes", "Age"].map((n) => typeof byName[n]),
      ["string", "string", "string", "string", "string"],
    );
  });

  it("names the kind, group, version, short name and status subresource", () => {
    const crd = buildCrd() as { metadata: { name: string }; spec: Record<string, unknown> };
    const spec = crd.spec as {
      group: string;
      scope: string;
      names: { kind: string; plural: string; shortNames: string[] };
      versions: { name: string; storage: boolean; subresources: unknown }[];
    };
    assert.equal(crd.metadata.name, "sfpromptjobs.sfprompt.io");
    assert.deepEqual(
      [spec.group, spec.scope, spec.names.kind, spec.names.plural],
      ["sfprompt.io", "Namespaced", "SFPromptJob", "sfpromptjobs"],
    );
    assert.deepEqual(spec.names.shortNames, ["sfpj"]);
    assert.deepEqual(
      spec.versions.map((v) => [v.name, v.storage, v.subresources]),
      [["v1alpha1", true, { status: {} }]],
    );
  });

  it("keeps the status and spec schemas apart", () => {
    const status = statusJsonSchema();
    assert.equal((specJsonSchema().properties as SchemaNode).phase, undefined);
    assert.ok((status.properties as Record<string, SchemaNode>).progress);
  });

  it("round-trips through YAML to the same object", () => {
    assert.deepEqual(yaml.load(crdYaml()), buildCrd());
  });

  it("gives Helm the same body, wrapped in crds.install, with no template braces inside", () => {
    const helm = helmCrdYaml();
    const lines = helm.split("\n");
    assert.equal(lines[0], "{{- if .Values.crds.install }}");
    assert.equal(lines.slice(1, -2).join("\n") + "\n", crdYaml());
    assert.equal(crdYaml().includes("{{"), false);
  });

  it("matches the files npm run gen wrote (npm run verify checks the same)", () => {
    assert.equal(readFileSync(root + CRD_PATH, "utf8"), crdYaml());
    assert.equal(readFileSync(root + HELM_CRD_PATH, "utf8"), helmCrdYaml());
  });

  it("refuses zod constructs that have no structural form, naming the node", () => {
    assert.throws(
      () =>
        toStructural({
          type: "object",
          properties: { a: { oneOf: [{ type: "string" }, { type: "object" }] } },
        }),
      (e: unknown) => e instanceof StructuralSchemaError && e.message.startsWith("(root).a: a union"),
    );
    assert.throws(
      () => toStructural({ type: "object", properties: { b: { description: "x" } } }),
      (e: unknown) =>
        e instanceof StructuralSchemaError && e.message.startsWith("(root).b: the node has no type"),
    );
  });
});
