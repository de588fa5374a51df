// Counts in the CLI's messages: "1 round", "2 rounds", never "1 rounds".

/** `n` and its noun, singular for exactly one; `show` formats the number (e.g. thousands separators). */
export function plural(
  n: number,
  noun: string,
  nouns = `${noun}s`,
  show: (n: number) => string = String,
): string {
  return `${show(n)} ${n === 1 ? noun : nouns}`;
}
