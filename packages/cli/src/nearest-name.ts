// The name a user most likely meant when they mistyped one (a flag, a command): "did you mean".

/** Edits (insert, delete, replace) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The name of `names` nearest a mistyped `name` (a few edits, more for long names), or undefined. */
export function nearestName(name: string, names: readonly string[]): string | undefined {
  return names
    .map((n) => ({ n, d: editDistance(name.toLowerCase(), n) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(x.n.length / 3)))
    .sort((a, b) => a.d - b.d)[0]?.n;
}
