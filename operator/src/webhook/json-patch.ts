// A JSON Patch (RFC 6902) that adds what the defaulted object has and the original lacks. Only
// `add` operations: defaulting fills gaps and never rewrites what the user wrote.

export interface AddOperation {
  op: "add";
  path: string;
  value: unknown;
}

/** Escapes one JSON Pointer token (RFC 6901): node selector keys such as `kubernetes.io/os` hold '/'. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The `add` operations that turn `original` into `defaulted` where the two differ only by additions. */
export function defaultsPatch(original: unknown, defaulted: unknown, path = ""): AddOperation[] {
  if (isObject(original) && isObject(defaulted)) {
    return Object.entries(defaulted).flatMap(([key, value]) => {
      if (value === undefined) return [];
      const child = `${path}/${pointerToken(key)}`;
      return key in original && original[key] !== undefined
        ? defaultsPatch(original[key], value, child)
        : [{ op: "add" as const, path: child, value }];
    });
  }
  // Defaults inside list items (e.g. a toleration's operator) when the list itself is the user's.
  if (Array.isArray(original) && Array.isArray(defaulted) && original.length === defaulted.length) {
    return defaulted.flatMap((item, i) => defaultsPatch(original[i], item, `${path}/${i}`));
  }
  return [];
}
