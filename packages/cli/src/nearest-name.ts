// The name a user most likely meant when they mistyped one (a flag, a command): "did you mean".

/**
 * Edits that turn `a` into `b`: insert, delete, replace, and swap two neighbouring letters (one
 * edit: "fersh" is one slip from "fresh", as "rnu" is from "run").
 */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const up = d[i - 1]!;
      row[j] = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * How many edits still read as a slip between `a` and `b`: a third of the shorter one's letters, at
 * least one. A word of one or two letters shares too little with a name to guess from more than one
 * edit: "r" or "rx" is not "run" (two edits away), while "ru" and "rnu" are.
 */
function slipEdits(a: string, b: string): number {
  return Math.max(1, Math.floor(Math.min(a.length, b.length) / 3));
}

/** The name of `names` nearest a mistyped `name` (a slip: see slipEdits), or undefined. */
export function nearestName(name: string, names: readonly string[]): string | undefined {
  const typed = name.toLowerCase();
  return names
    .map((n) => ({ n, d: editDistance(typed, n) }))
    .filter((x) => x.d <= slipEdits(typed, x.n))
    .sort((a, b) => a.d - b.d)[0]?.n;
}
