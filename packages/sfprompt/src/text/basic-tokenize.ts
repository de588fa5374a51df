// HuggingFace BertTokenizer's BasicTokenizer: text cleanup, CJK spacing, lowercasing, accent
// stripping and punctuation splitting, giving the words that WordPiece then cuts into pieces.

export interface BasicTokenizeOptions {
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
}

// NUL, U+FFFD and every "C*" category character except \t \n \r (which count as whitespace).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const DROPPED = /[\u0000\ufffd]|(?![\t\n\r])\p{C}/gu;
const WHITESPACE = /[\t\n\r\p{Zs}]/gu;
// The CJK Unified Ideographs blocks HF surrounds with spaces (not kana, Hangul or CJK punctuation).
const CJK =
  /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;
// Python's str.split() whitespace that can survive cleanup (Zl, Zp) besides the space.
// eslint-disable-next-line no-control-regex -- Python counts \x1c-\x1f as whitespace
const SPLIT = /[\s\u001c-\u001f\u0085]+/u;
const MARK = /\p{Mn}/gu;
// Unicode "P*" plus all non-alphanumeric ASCII ($ + < = > ^ ` | ~ are symbols in Unicode).
const PUNCTUATION = /([\p{P}!-/:-@[-`{-~])/u;

/** Drops control characters, NUL and U+FFFD, and turns every whitespace character into a space. */
export function cleanText(text: string): string {
  return text.replace(DROPPED, "").replace(WHITESPACE, " ");
}

/** Puts spaces around CJK ideographs, so that each becomes its own word. */
export function spaceCjk(text: string): string {
  return text.replace(CJK, " $& ");
}

/**
 * Lowercases as HF does: character by character (its tokenize() lowercases with a one-character
 * regex), so a final capital sigma becomes σ, not the word-final ς that toLowerCase() would give.
 */
export function lowercaseChars(text: string): string {
  return text.replace(/Σ/g, "σ").toLowerCase();
}

/** Canonical decomposition, then every nonspacing mark (Mn) removed: "café" → "cafe". */
export function stripAccents(text: string): string {
  return text.normalize("NFD").replace(MARK, "");
}

/** Each punctuation character becomes a word of its own: "don't" → ["don", "'", "t"]. */
export function splitOnPunctuation(word: string): string[] {
  return word.split(PUNCTUATION).filter((w) => w !== "");
}

/** The words of `text` (which holds no special tokens), ready for WordPiece. */
export function basicTokenize(text: string, options: BasicTokenizeOptions): string[] {
  // HF lowercases the raw text (in tokenize()) before cleanup and NFC, then each word again (in
  // BasicTokenizer); both steps are kept so that NFC sees the same characters as in HF.
  const raw = options.lowercase ? lowercaseChars(text) : text;
  const words = spaceCjk(cleanText(raw)).normalize("NFC").split(SPLIT);
  const out: string[] = [];
  for (let word of words) {
    if (word === "") continue;
    if (options.lowercase) word = lowercaseChars(word);
    if (options.stripAccents) word = stripAccents(word);
    for (const piece of splitOnPunctuation(word)) out.push(piece);
  }
  return out;
}
