// WordPieceTokenizer against HuggingFace's BertTokenizer: the ids of 541 cases generated once with
// transformers (test/fixtures/wordpiece/README.md), over the real 30,522-entry BERT vocabulary.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  TokenizerArgumentError,
  VocabFormatError,
  VocabMissingTokenError,
  VocabNotFoundError,
} from "../../src/text/errors.js";
import { parseVocab } from "../../src/text/vocab.js";
import { WordPieceTokenizer } from "../../src/text/wordpiece.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/wordpiece/", import.meta.url));
const VOCAB = join(FIXTURES, "vocab.txt");

interface Case {
  config: string;
  text: string;
  tokens: string[];
  ids: number[];
  truncated?: Record<string, number[]>;
}
interface Fixture {
  vocabSha256: string;
  configs: Record<string, { lowercase: boolean; stripAccents: boolean | null }>;
  cases: Case[];
}

const fixture = JSON.parse(await readFile(join(FIXTURES, "cases.json"), "utf8")) as Fixture;
const vocabText = await readFile(VOCAB, "utf8");

async function tokenizerFor(config: string): Promise<WordPieceTokenizer> {
  const c = fixture.configs[config];
  assert.ok(c, `config ${config} is in the fixture`);
  return WordPieceTokenizer.fromVocabFile(VOCAB, {
    lowercase: c.lowercase,
    ...(c.stripAccents === null ? {} : { stripAccents: c.stripAccents }),
  });
}

/** The cases whose ids differ, as readable lines (empty when all match). */
function mismatches(tok: WordPieceTokenizer, cases: Case[]): string[] {
  const out: string[] = [];
  for (const c of cases) {
    const ids = [...tok.encode(c.text, 1_000_000)];
    if (JSON.stringify(ids) !== JSON.stringify(c.ids)) {
      const got = ids.map((id) => tok.tokenOf(id));
      out.push(`${JSON.stringify(c.text)}: got ${JSON.stringify(got)}, HF ${JSON.stringify(c.tokens)}`);
    }
  }
  return out;
}

describe("WordPieceTokenizer reproduces HuggingFace BertTokenizer", () => {
  it("the fixture was made with the committed vocab.txt", () => {
    assert.equal(createHash("sha256").update(vocabText).digest("hex"), fixture.vocabSha256);
  });

  for (const config of Object.keys(fixture.configs)) {
    const cases = fixture.cases.filter((c) => c.config === config);
    it(`${config}: the ids of all ${cases.length} strings match`, async () => {
      assert.ok(cases.length >= 100);
      assert.deepEqual(mismatches(await tokenizerFor(config), cases), []);
    });
  }

  it("truncation to maxLength keeps [CLS] first and [SEP] last, like truncation=True", async () => {
    const tok = await tokenizerFor("uncased");
    const checks = fixture.cases
      .filter((c) => c.config === "uncased")
      .flatMap((c) =>
        Object.entries(c.truncated ?? {}).map(([m, ids]) => ({ text: c.text, m: Number(m), ids })),
      );
    assert.ok(checks.length > 300);
    for (const { text, m, ids } of checks) {
      assert.deepEqual([...tok.encode(text, m)], ids, `${JSON.stringify(text)} at maxLength ${m}`);
    }
  });

  it("the special-token ids and size are those of vocab.txt's lines", async () => {
    const tok = await tokenizerFor("uncased");
    const lines = parseVocab(vocabText);
    assert.equal(tok.vocabSize, lines.length);
    assert.equal(tok.vocabSize, 30522);
    assert.deepEqual(
      [tok.padId, tok.unkId, tok.clsId, tok.sepId],
      ["[PAD]", "[UNK]", "[CLS]", "[SEP]"].map((t) => lines.indexOf(t)),
    );
  });

  it("maxLength 2 leaves [CLS] [SEP]; longer limits never pad", async () => {
    const tok = await tokenizerFor("uncased");
    assert.deepEqual([...tok.encode("a long sentence here", 2)], [tok.clsId, tok.sepId]);
    assert.deepEqual([...tok.encode("", 10)], [tok.clsId, tok.sepId]);
  });
});

describe("WordPieceTokenizer on a small vocabulary", () => {
  const small = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "un",
    "##aff",
    "##able",
    "aff",
    "a",
    "##b",
    "!",
    "x",
    "x",
  ];
  const cases: { name: string; text: string; tokens: string[] }[] = [
    {
      name: "greedy longest match first, with ## continuations",
      text: "unaffable",
      tokens: ["un", "##aff", "##able"],
    },
    {
      name: "a word with a stretch no piece covers is one [UNK]",
      text: "unaffz ab",
      tokens: ["[UNK]", "a", "##b"],
    },
    { name: "punctuation splits words", text: "aff!a", tokens: ["aff", "!", "a"] },
    {
      name: "words over 100 characters are [UNK] without a search",
      text: "a" + "b".repeat(100),
      tokens: ["[UNK]"],
    },
    {
      name: "a word of exactly 100 characters is searched",
      text: "a" + "b".repeat(99),
      tokens: ["a", ...Array<string>(99).fill("##b")],
    },
    {
      name: "special tokens written in the text are kept whole",
      text: "un[SEP]a",
      tokens: ["un", "[SEP]", "a"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(WordPieceTokenizer.fromVocab(small).tokenize(c.text), c.tokens);
    });
  }

  it("a token listed twice gets its last line's id, as in HF", () => {
    const tok = WordPieceTokenizer.fromVocab(small);
    assert.deepEqual([...tok.encode("x", 8)], [2, 12, 3]);
  });

  it("vocab.txt lines end at \\n, \\r\\n or \\r", () => {
    assert.deepEqual(parseVocab("[PAD]\r\n[UNK]\r[CLS]\n[SEP]\n"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]);
  });
});

describe("WordPieceTokenizer errors", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wordpiece-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a missing vocab file is a VocabNotFoundError naming the path", async () => {
    const path = join(dir, "nope.txt");
    await assert.rejects(WordPieceTokenizer.fromVocabFile(path), (e: unknown) => {
      assert.ok(e instanceof VocabNotFoundError);
      assert.equal(e.path, path);
      assert.match(e.message, /nope\.txt/);
      return true;
    });
  });

  it("an empty vocab file is a VocabFormatError naming the path", async () => {
    const path = join(dir, "empty.txt");
    await writeFile(path, "");
    await assert.rejects(WordPieceTokenizer.fromVocabFile(path), (e: unknown) => {
      assert.ok(e instanceof VocabFormatError);
      assert.match(e.message, /empty\.txt.*empty/);
      return true;
    });
  });

  for (const missing of ["[CLS]", "[SEP]", "[PAD]", "[UNK]"]) {
    it(`a vocab without ${missing} is a VocabMissingTokenError naming the file and the token`, async () => {
      const path = join(dir, `no-${missing.slice(1, -1)}.txt`);
      await writeFile(
        path,
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"].filter((t) => t !== missing).join("\n"),
      );
      await assert.rejects(WordPieceTokenizer.fromVocabFile(path), (e: unknown) => {
        assert.ok(e instanceof VocabMissingTokenError);
        assert.equal(e.token, missing);
        assert.equal(e.source, path);
        assert.ok(e.message.includes(path) && e.message.includes(missing));
        return true;
      });
    });
  }

  it("an empty token list is a VocabFormatError", () => {
    assert.throws(() => WordPieceTokenizer.fromVocab([]), VocabFormatError);
  });

  for (const maxLength of [1, 0, 2.5, Number.NaN]) {
    it(`maxLength ${maxLength} is a TokenizerArgumentError`, () => {
      const tok = WordPieceTokenizer.fromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]);
      assert.throws(() => tok.encode("a", maxLength), TokenizerArgumentError);
    });
  }
});
