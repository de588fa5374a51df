// Text: the BERT WordPiece tokenizer (HF BertTokenizer's ids), its vocabulary reader and errors.
export * from "./errors.js";
export { parseVocab, readVocabFile } from "./vocab.js";
export { basicTokenize } from "./basic-tokenize.js";
export * from "./wordpiece.js";
