// The text-model fixtures the runtime, traffic and CLI tests share: the engine's HuggingFace BERT
// export (BertForSequenceClassification by torch.onnx: 2 layers, width 32, vocabulary of 100) and a
// WordPiece vocabulary small enough for it.
import { fileURLToPath } from "node:url";

export const BERT_FIXTURE = fileURLToPath(
  new URL("../../../engine/test/fixtures/torch/bert/model.onnx", import.meta.url),
);

/** 76 entries, all below the fixture's 100: the specials, letters and digits, alone and as "##" pieces. */
export function letterVocab(): string[] {
  const chars = [..."abcdefghijklmnopqrstuvwxyz0123456789"];
  return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", ...chars, ...chars.map((c) => `##${c}`)];
}
