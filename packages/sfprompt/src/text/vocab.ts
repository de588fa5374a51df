// A WordPiece vocabulary (vocab.txt: one token a line, the id is the line number from 0), read the
// way HuggingFace's load_vocab reads it.

import { readFile } from "node:fs/promises";
import { VocabFormatError, VocabNotFoundError } from "./errors.js";

/** Splits vocab.txt into its tokens: any of \n, \r\n, \r ends a line (Python's universal newlines). */
export function parseVocab(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Reads vocab.txt; a missing file or one with no lines is a typed error naming the path. */
export async function readVocabFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new VocabNotFoundError(
      path,
      "vocabulary file is not readable; pass the model's vocab.txt (one token a line)",
      { cause },
    );
  }
  const tokens = parseVocab(text);
  if (tokens.length === 0) throw new VocabFormatError(path, "vocabulary file is empty");
  return tokens;
}

/** Token → id. A token listed twice keeps its last line, as HF's dict does. */
export function vocabIndex(tokens: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  tokens.forEach((token, id) => index.set(token, id));
  return index;
}
