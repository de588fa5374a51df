// One word of a shell command that a message suggests (chmod a+r <file>, rm -rf <dir>): a path with a
// space, quote or $ pasted unquoted into bash is split, expanded or both, so the command fixes the
// wrong thing or removes two (ADR 0016, the amendment on quoted paths).

/** Characters a POSIX shell takes literally in an unquoted word (no glob, expansion or split). */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `word` as bash and sh read it back unchanged: as it is when every character is plain (the message
 * reads as before for the usual paths), else in single quotes, each ' written as '\''.
 */
export function shellQuote(word: string): string {
  if (PLAIN.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
