// "N clients or a fraction of them": used for per-round selection and for the aggregation quorum.
import { z } from "zod";
import { exactlyOneOf } from "./one-of.js";

/** A client count given either as an absolute `count` or as a `fraction` of a total. */
export function countOrFraction(of: string, description: string): CountOrFractionSchema {
  return exactlyOneOf(
    {
      count: z.int().min(1).max(10000).optional().meta({ description: `Number of clients.` }),
      fraction: z
        .number()
        .gt(0)
        .max(1)
        .optional()
        .meta({ description: `Fraction (0, 1] of ${of}; rounded up, at least 1.` }),
    },
    `${description} Set exactly one of count or fraction.`,
  );
}

export type CountOrFractionSchema = z.ZodObject<
  { count: z.ZodOptional<z.ZodInt>; fraction: z.ZodOptional<z.ZodNumber> },
  z.core.$strict
>;
export type CountOrFraction = { count?: number | undefined; fraction?: number | undefined };

/** Resolves a count-or-fraction against `total`: fractions round up and never give less than 1. */
export function resolveCount(value: CountOrFraction, total: number): number {
  if (value.count !== undefined) return value.count;
  return Math.max(1, Math.ceil((value.fraction ?? 1) * total - 1e-9));
}
