// A BERT WordPiece tokenizer that gives the ids HuggingFace's BertTokenizer gives (the fixture in
// test/fixtures/wordpiece checks it): basic tokenization, then greedy longest-match-first pieces.

import { type BasicTokenizeOptions, basicTokenize } from "./basic-tokenize.js";
import { TokenizerArgumentError, VocabFormatError, VocabMissingTokenError } from "./errors.js";
import { readVocabFile, vocabIndex } from "./vocab.js";

export interface WordPieceOptions {
  /** Lowercase the text (uncased models); default true. */
  lowercase?: boolean;
  /** Remove accents (NFD, then drop nonspacing marks); default: the value of `lowercase`. */
  stripAccents?: boolean;
  /** Name of the vocabulary in error messages (fromVocabFile passes the path); default "vocab". */
  source?: string;
}

/** Words longer than this many characters become [UNK] without a search, as in HF. */
export const WORDPIECE_MAX_WORD_CHARS = 100;

const REQUIRED = ["[CLS]", "[SEP]", "[PAD]", "[UNK]"] as const;
// HF splits these out of the text before anything else and maps each to its id (even [MASK]).
const SPECIAL = /(\[CLS\]|\[SEP\]|\[PAD\]|\[UNK\]|\[MASK\])/;
const CONTINUATION = "##";

export class WordPieceTokenizer {
  private readonly index: Map<string, number>;
  private readonly basic: BasicTokenizeOptions;
  private readonly longest: number;
  readonly padId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;

  private constructor(
    private readonly tokens: readonly string[],
    options: WordPieceOptions,
  ) {
    const source = options.source ?? "vocab";
    if (tokens.length === 0) throw new VocabFormatError(source, "vocabulary has no tokens");
    this.index = vocabIndex(tokens);
    const id = (token: (typeof REQUIRED)[number]): number => {
      const found = this.index.get(token);
      if (found === undefined) throw new VocabMissingTokenError(source, token);
      return found;
    };
    [this.clsId, this.sepId, this.padId, this.unkId] = REQUIRED.map(id) as [number, number, number, number];
    const lowercase = options.lowercase ?? true;
    this.basic = { lowercase, stripAccents: options.stripAccents ?? lowercase };
    // No piece is longer than the longest entry, so the search never needs to start wider.
    this.longest = tokens.reduce((m, t) => Math.max(m, [...t].length), 0);
  }

  /** A tokenizer over a vocabulary file (vocab.txt: one token a line, ids are line numbers). */
  static async fromVocabFile(path: string, options: WordPieceOptions = {}): Promise<WordPieceTokenizer> {
    return new WordPieceTokenizer(await readVocabFile(path), { source: path, ...options });
  }

  /** A tokenizer over the tokens in id order. */
  static fromVocab(tokens: readonly string[], options: WordPieceOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer([...tokens], options);
  }

  get vocabSize(): number {
    return this.tokens.length;
  }

  /** The token with this id (for reading ids back; "" outside the vocabulary). */
  tokenOf(id: number): string {
    return this.tokens[id] ?? "";
  }

  /** The WordPiece tokens of `text`, without [CLS] and [SEP]. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    text.split(SPECIAL).forEach((part, k) => {
      if (k % 2 === 1) out.push(part);
      else if (part !== "") for (const word of basicTokenize(part, this.basic)) this.pieces(word, out);
    });
    return out;
  }

  /**
   * [CLS], the ids of `text`, [SEP]; cut to `maxLength` ids with [SEP] kept last (HF's
   * truncation=True). Not padded: the caller pads with `padId`.
   */
  encode(text: string, maxLength: number): Int32Array {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new TokenizerArgumentError(
        "maxLength",
        `must be an integer ≥ 2 (room for [CLS] and [SEP]), got ${maxLength}`,
      );
    }
    const tokens = this.tokenize(text);
    const n = Math.min(tokens.length, maxLength - 2);
    const ids = new Int32Array(n + 2);
    ids[0] = this.clsId;
    for (let i = 0; i < n; i++) ids[i + 1] = this.index.get(tokens[i] as string) ?? this.unkId;
    ids[n + 1] = this.sepId;
    return ids;
  }

  // Greedy longest-match-first over code points; a word with an uncovered stretch is one [UNK].
  private pieces(word: string, out: string[]): void {
    const chars = [...word];
    if (chars.length > WORDPIECE_MAX_WORD_CHARS) {
      out.push("[UNK]");
      return;
    }
    const found: string[] = [];
    for (let start = 0; start < chars.length;) {
      let end = Math.min(chars.length, start + this.longest);
      let piece: string | undefined;
      for (; end > start; end--) {
        const candidate = (start > 0 ? CONTINUATION : "") + chars.slice(start, end).join("");
        if (this.index.has(candidate)) {
          piece = candidate;
          break;
        }
      }
      if (piece === undefined) {
        out.push("[UNK]");
        return;
      }
      found.push(piece);
      start = end;
    }
    for (const piece of found) out.push(piece);
  }
}
