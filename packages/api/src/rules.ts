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
export function immutable(what: string): CelRule {
  return {
    rule: "self == oldSelf",
    message: `${what} is immutable; delete the job and create a new one to change it`,
  };
}

/** CEL for "exactly one of these optional members is set". */
export function exactlyOneCel(keys: readonly string[], where: string): CelRule {
  const has = keys.map((k) => `has(self.${k})`).join(", ");
  return {
    rule: `[${has}].exists_one(x, x)`,
    message: `${where}: set exactly one of ${keys.join(", ")}`,
  };
}

/** The keys of `keys` present (not undefined) on `value`. */
export function presentKeys(value: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((k) => value[k] !== undefined);
}
