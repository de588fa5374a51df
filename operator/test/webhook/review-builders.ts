// Builders for AdmissionReview requests as the API server sends them, and a JSON Patch applier
// (add operations only, which is all the defaulting webhook emits) to check patches by their result.
import { randomUUID } from "node:crypto";

export type Json = Record<string, unknown>;

export function reviewOf(operation: string, object: unknown, oldObject?: unknown): Json {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind: { group: "sfprompt.io", version: "v1alpha1", kind: "SFPromptJob" },
      resource: { group: "sfprompt.io", version: "v1alpha1", resource: "sfpromptjobs" },
      operation,
      namespace: "team-a",
      name: "demo",
      object,
      ...(oldObject === undefined ? {} : { oldObject }),
      userInfo: { username: "test" },
    },
  };
}

function unescape(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Applies RFC 6902 `add` operations to a copy of `doc`. */
export function applyAddPatch(doc: unknown, ops: { op: string; path: string; value: unknown }[]): unknown {
  const out = structuredClone(doc) as Json;
  for (const op of ops) {
    if (op.op !== "add") throw new Error(`unexpected op ${op.op}`);
    const tokens = op.path.split("/").slice(1).map(unescape);
    let node: Json | unknown[] = out;
    for (const t of tokens.slice(0, -1)) node = (node as Json)[t] as Json;
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(node)) node.splice(Number(last), 0, op.value);
    else if (!(last in node)) node[last] = op.value;
    else throw new Error(`add over an existing member ${op.path}`);
  }
  return out;
}

export function decodePatch(patch: string | undefined): { op: string; path: string; value: unknown }[] {
  return patch === undefined ? [] : (JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as never);
}
