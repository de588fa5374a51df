// Turns zod's OpenAPI 3.0 output into a Kubernetes structural schema: every node typed, no
// $ref/const/additionalProperties:false, int-or-string marked the way Kubernetes' own types are;
// and keeps every bound zod checks, so that the API server refuses what zod would (ADR 0002, am. 1).
/** A JSON schema node as zod emits it and the CRD carries it. */
export type SchemaNode = { [key: string]: unknown };

/** The post-processing met a construct a structural schema cannot express. */
export class StructuralSchemaError extends Error {
  override readonly name = "StructuralSchemaError";
  constructor(path: string, what: string) {
    super(`${path}: ${what}; change the zod schema so that the CRD can express it`);
  }
}

/** Keywords Kubernetes' structural schemas reject or that only zod uses. */
const DROPPED = ["$schema", "$id", "id", "title", "examples", "readOnly", "writeOnly"];

function isNode(v: unknown): v is SchemaNode {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** zod's int-or-quantity union: anyOf [integer, string]. */
function isIntOrString(node: SchemaNode): boolean {
  const anyOf = node.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return false;
  const types = anyOf.map((b) => (isNode(b) ? b.type : undefined)).sort();
  return types[0] === "integer" && types[1] === "string";
}

/** The API server applies minimum/maximum to the integer form only and pattern to the string form. */
function toIntOrString(node: SchemaNode): SchemaNode {
  const branches = node.anyOf as SchemaNode[];
  const str = branches.find((b) => b.type === "string");
  const int = branches.find((b) => b.type === "integer");
  const { anyOf: _anyOf, ...rest } = node;
  return {
    ...rest,
    anyOf: [{ type: "integer" }, { type: "string" }],
    ...(int?.minimum !== undefined ? { minimum: int.minimum } : {}),
    ...(int?.maximum !== undefined ? { maximum: int.maximum } : {}),
    ...(str?.pattern !== undefined ? { pattern: str.pattern } : {}),
    "x-kubernetes-int-or-string": true,
  };
}

/**
 * Regular-expression syntax that ECMAScript (zod) and RE2 (the API server) read differently: \s and
 * \S (Unicode spaces in one, ASCII in the other), an unescaped `.` (line separators), \u and \p
 * escapes, lookaround and back-references (not in RE2).
 */
const NON_PORTABLE = [
  { re: /(^|[^\\])(\\\\)*\\[sSupPck1-9]/, what: "\\s, \\S, \\u, \\p, \\c, \\k or a back-reference" },
  { re: /\(\?<?[=!]/, what: "a lookaround" },
  { re: /(^|[^\\])(\\\\)*\./, what: "an unescaped `.`" },
];

/** Throws unless `pattern` means the same to zod and to the API server. */
export function checkPortablePattern(pattern: string, path: string): void {
  const bad = NON_PORTABLE.find((n) =>
    n.re.test(pattern.replace(/\[(\\.|[^\]])*\]/g, (c) => c.replace(/\./g, "x"))),
  );
  if (bad !== undefined) {
    throw new StructuralSchemaError(
      path,
      `the pattern ${pattern} uses ${bad.what}, which zod (ECMAScript) and the API server (RE2) read differently`,
    );
  }
}

function cleanScalar(node: SchemaNode, path: string): void {
  if (node.const !== undefined) {
    node.enum = [node.const];
    delete node.const;
  }
  // z.int() stops at ±(2^53 - 1), the integers a JavaScript number holds exactly; the API server
  // would store any int64, so the bounds stay.
  if (node.type === "integer" && node.format === "safeint") delete node.format;
  // zod's date-time pattern stays too: format date-time alone admits lower-case t/z, any character
  // before the fraction and offsets such as +99:99, which zod rejects.
  if (typeof node.pattern === "string") checkPortablePattern(node.pattern, path);
}

/** Keys first in every node, so that the YAML reads description → type → constraints → children. */
const ORDER = ["description", "type", "format", "enum", "default", "nullable"];

function ordered(node: SchemaNode): SchemaNode {
  const out: SchemaNode = {};
  for (const k of ORDER) if (k in node) out[k] = node[k];
  const rest = Object.keys(node).filter((k) => !ORDER.includes(k));
  const late = (k: string): number =>
    k === "properties" || k === "items" || k === "additionalProperties" ? 1 : 0;
  rest.sort((a, b) => late(a) - late(b) || (a.startsWith("x-") ? 1 : 0) - (b.startsWith("x-") ? 1 : 0));
  for (const k of rest) out[k] = node[k];
  return out;
}

/** Recursively rewrites `node` (a fresh copy) into structural form; `path` names it in errors. */
export function toStructural(node: SchemaNode, path = "(root)"): SchemaNode {
  let out: SchemaNode = { ...node };
  for (const key of DROPPED) delete out[key];
  if (out.additionalProperties === false) delete out.additionalProperties;
  if (out.$ref !== undefined || out.definitions !== undefined || out.$defs !== undefined) {
    throw new StructuralSchemaError(path, "a $ref or definitions survived inlining");
  }
  if (isIntOrString(out)) out = toIntOrString(out);
  else if (
    out.anyOf !== undefined ||
    out.oneOf !== undefined ||
    out.allOf !== undefined ||
    out.not !== undefined
  ) {
    throw new StructuralSchemaError(path, "a union (anyOf/oneOf/allOf/not) has no structural form");
  }
  cleanScalar(out, path);
  if (out.type === undefined && out["x-kubernetes-int-or-string"] !== true) {
    throw new StructuralSchemaError(path, "the node has no type");
  }
  if (isNode(out.properties)) {
    const props: SchemaNode = {};
    for (const [k, v] of Object.entries(out.properties))
      props[k] = toStructural(v as SchemaNode, `${path}.${k}`);
    out.properties = props;
  }
  if (isNode(out.additionalProperties)) {
    out.additionalProperties = toStructural(out.additionalProperties, `${path}[*]`);
  }
  if (isNode(out.items)) out.items = toStructural(out.items, `${path}[]`);
  return ordered(out);
}
