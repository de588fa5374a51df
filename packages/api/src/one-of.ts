// "Exactly one of these members" objects (like a Pod's volume sources): a flat object in the CRD, with
// the rule carried both as a zod refinement and as CEL, because structural schemas cannot hold oneOf.
import { z } from "zod";
import { exactlyOneCel, presentKeys, VALIDATIONS } from "./rules.js";

/** A strict object of optional members of which exactly one must be set. */
export function exactlyOneOf<S extends z.core.$ZodLooseShape>(
  shape: S,
  description: string,
): z.ZodObject<S, z.core.$strict> {
  const keys = Object.keys(shape);
  return z
    .strictObject(shape)
    .superRefine((value, ctx) => {
      const set = presentKeys(value as Record<string, unknown>, keys);
      if (set.length === 1) return;
      ctx.addIssue({
        code: "custom",
        message:
          set.length === 0
            ? `set exactly one of ${keys.join(", ")}; none is set`
            : `set exactly one of ${keys.join(", ")}; found ${set.join(" and ")}`,
      });
    })
    .meta({ description, [VALIDATIONS]: [exactlyOneCel(keys)] });
}
