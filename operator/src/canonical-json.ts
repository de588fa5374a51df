// JSON with object keys sorted at every level (undefined members left out): the same value always
// gives the same text, whatever order its keys were set in. For comparing values and digesting them.

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, sorted(x)]),
    );
  return v;
}

/** `v` as canonical JSON ("null" for undefined). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sorted(v)) ?? "null";
}
