// Builders for job objects in tests: a valid manifest, with the spec fields a case sets.
export type Json = Record<string, unknown>;

/** An SFPromptJob manifest with `spec` as given (everything else left to defaults). */
export function jobWith(spec: Json = {}, metadata: Json = { name: "demo", namespace: "team-a" }): Json {
  return { apiVersion: "sfprompt.io/v1alpha1", kind: "SFPromptJob", metadata, spec };
}

/** A deep copy of `base` with `value` set at the dotted `path` (objects created on the way). */
export function withField(base: Json, path: string, value: unknown): Json {
  const out = structuredClone(base);
  const keys = path.split(".");
  let node: Json = out;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Json;
  }
  node[keys[keys.length - 1] as string] = value;
  return out;
}
