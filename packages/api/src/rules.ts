// Cross-field rules written once and enforced twice: as a zod refinement (webhook, `sfprompt run`)
// and as a CEL `x-kubernetes-validations` rule in the CRD (the API server).

/** One CEL rule as the CRD carries it. */
export interface CelRule {
  rule: string;
  message: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** The `.meta()` key that carries CEL rules into the generated JSON schema. */
export const VALIDATIONS = "x-kubernetes-validations";

/** A rule that forbids changes once the job exists: model, data and topology fix what a run means. */
export function immutable(): CelRule {
  // The API server prefixes the field path, so the message only says what to do.
  return {
    rule: "self == oldSelf",
    message: "field is immutable: delete the job and create a new one to change it",
  };
}

/**
 * A rule on an object that forbids setting, changing or removing its optional member `key` once the
 * job exists. A rule on the member itself (`self == oldSelf`) runs only when the old and the new
 * object both have it, so adding or removing it would pass; on the parent it sees both. The parent
 * must always be present (a default of {}), or its rule does not run either.
 */
export function immutableMember(key: string, why: string): CelRule {
  return {
    rule: `has(self.${key}) == has(oldSelf.${key}) && (!has(self.${key}) || self.${key} == oldSelf.${key})`,
    message: `field is immutable (setting, changing and removing it are refused): ${why}`,
    fieldPath: `.${key}`,
    reason: "FieldValueForbidden",
  };
}

/** The member `key` whose immutability `rule` states, if it is an immutableMember rule. */
export function immutableMemberKey(rule: CelRule, keys: readonly string[]): string | undefined {
  return keys.find((k) => rule.rule === immutableMember(k, "").rule);
}

/** CEL for "exactly one of these optional members is set". */
export function exactlyOneCel(keys: readonly string[]): CelRule {
  const has = keys.map((k) => `has(self.${k})`).join(", ");
  return { rule: `[${has}].exists_one(x, x)`, message: `set exactly one of ${keys.join(", ")}` };
}

/** The keys of `keys` present (not undefined) on `value`. */
export function presentKeys(value: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((k) => value[k] !== undefined);
}

/**
 * CEL that is true when every field along `path` (e.g. "clients.perRound.count") is set. The API
 * server evaluates a node's rules on the node's own default before nested defaults apply, so a rule
 * that reads a nested field must guard every step.
 */
export function celPresent(path: string): string {
  const parts = path.split(".");
  return parts.map((_, i) => `has(self.${parts.slice(0, i + 1).join(".")})`).join(" && ");
}
