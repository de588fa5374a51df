// JSONL user data: feature lines, text and token-id lines, label mapping, line-numbered errors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { constants } from "node:buffer";
import { open, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DatasetFormatError,
  JsonlKindError,
  JsonlMixedKindError,
  eachFileLine,
  loadJsonlFeatures,
  loadJsonlTokens,
  parseJsonlFeatures,
  parseJsonlTokens,
  sampleAt,
} from "@sfprompt/core";
import { withTempDir } from "./fixtures.js";

const lines = (...records: unknown[]): string => records.map((r) => JSON.stringify(r)).join("\n") + "\n";

// A whitespace tokenizer over a fixed vocabulary (1 = unknown), enough to exercise the reader.
const vocab = new Map([
  ["good", 2],
  ["bad", 3],
  ["film", 4],
]);
const tokenize = (text: string): number[] => text.split(/\s+/).map((w) => vocab.get(w) ?? 1);

describe("JSONL features", () => {
  it("reads a file of x arrays with string labels, classes sorted", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "train.jsonl");
      await writeFile(
        path,
        lines({ x: [1, 2], label: "pear" }, { x: [3, 4], label: "apple" }, { x: [5, 6], label: "pear" }),
      );
      const ds = await loadJsonlFeatures(path);
      assert.deepEqual(ds.classNames, ["apple", "pear"]);
      assert.deepEqual(Array.from(ds.labels), [1, 0, 1]);
      assert.deepEqual(ds.sampleShape, [2]);
      assert.deepEqual(Array.from(sampleAt(ds, 2)), [5, 6]);
    });
  });

  it("reads a file saved with a UTF-8 byte order mark (Windows editors, PowerShell's Out-File)", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "bom.jsonl");
      const records = [
        { x: [1, 2], label: "b" },
        { x: [3, 4], label: "a" },
      ];
      await writeFile(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines(...records))]));
      const ds = await loadJsonlFeatures(path);
      assert.deepEqual(ds.classNames, ["a", "b"]);
      assert.deepEqual(
        Array.from({ length: records.length }, (_, i) => [ds.classNames[ds.labels[i]!], ...sampleAt(ds, i)]),
        records.map((r) => [r.label, ...r.x]),
      );
    });
  });

  it("reads a file longer than V8's longest string, line by line", async () => {
    await withTempDir(async (dir) => {
      // Lines of about 1 MiB: a sample, a note of 50,000 "é" (two bytes each, so that chunk ends fall
      // inside characters) and spaces (JSON whitespace). Read whole into one string, the file failed
      // as "JSONL file is not readable; check the path" (ERR_STRING_TOO_LONG).
      const path = join(dir, "big.jsonl");
      const note = "é".repeat(50_000);
      const pad = " ".repeat((1 << 20) + 999 - note.length * 2);
      const file = await open(path, "w");
      let chars = 0;
      let count = 0;
      try {
        while (chars <= constants.MAX_STRING_LENGTH) {
          const label = count % 3 === 0 ? "日本" : "äpple";
          const line = `${JSON.stringify({ x: [count, count / 2], label, note })}${pad}${count % 2 ? "\r\n" : "\n"}`;
          await file.write(line);
          chars += line.length;
          count += 1;
        }
      } finally {
        await file.close();
      }
      assert.ok((await stat(path)).size > constants.MAX_STRING_LENGTH);
      const ds = await loadJsonlFeatures(path);
      assert.deepEqual(ds.classNames, ["äpple", "日本"]);
      assert.equal(ds.labels.length, count);
      const k = Array.from({ length: count }, (_, i) => i);
      assert.deepEqual(
        Array.from(ds.labels),
        k.map((i) => (i % 3 === 0 ? 1 : 0)),
      );
      assert.deepEqual(
        Array.from(ds.x),
        k.flatMap((i) => [i, i / 2]),
      );
    });
  });

  it("names a line longer than the longest line it takes", async () => {
    await withTempDir(async (dir) => {
      // the limit is V8's longest string; set to 100 characters here, a 300-character line 2 meets it
      const path = join(dir, "long-line.jsonl");
      await writeFile(path, lines({ x: [1], label: 0 }, { x: [2], label: 0, note: "n".repeat(270) }));
      const seen: number[] = [];
      await assert.rejects(
        eachFileLine(path, (l) => seen.push(l.number), 100),
        (e: Error) => {
          assert.equal(e.name, "DatasetFormatError");
          assert.equal(
            e.message,
            `${path}:2: is longer than 100 characters, the longest line this reader takes; put one sample per line`,
          );
          return true;
        },
      );
      assert.deepEqual(seen, [1]);
    });
  });

  const cases = [
    {
      name: "maps labels through the job's class list",
      text: lines({ x: [0], label: "b" }, { x: [1], label: 0 }),
      options: { classNames: ["a", "b", "c"] },
      labels: [1, 0],
      classNames: ["a", "b", "c"],
    },
    {
      name: "names int labels 0..max when no list is given",
      text: lines({ x: [0], label: 2 }, { x: [1], label: 0 }),
      options: {},
      labels: [2, 0],
      classNames: ["0", "1", "2"],
    },
    {
      name: "reads the input and label fields the job names, skipping blank lines",
      text: `${JSON.stringify({ input: [7], y: "q" })}\n\n${JSON.stringify({ input: [8], y: "p" })}\n`,
      options: { inputField: "input", labelField: "y" },
      labels: [1, 0],
      classNames: ["p", "q"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ds = parseJsonlFeatures(c.text, "mem.jsonl", c.options);
      assert.deepEqual(Array.from(ds.labels), c.labels);
      assert.deepEqual(ds.classNames, c.classNames);
    });
  }

  it("reshapes lines into image samples", () => {
    const ds = parseJsonlFeatures(lines({ x: [0, 1, 2, 3], label: 0 }), "m", { shape: [1, 2, 2] });
    assert.deepEqual(ds.sampleShape, [1, 2, 2]);
  });

  const errors = [
    {
      name: "invalid JSON",
      text: `${JSON.stringify({ x: [1], label: 0 })}\n{"x": [1], label}\n`,
      match: /f\.jsonl:2: is not valid JSON/,
    },
    { name: "a line that is an array", text: "[1, 2]\n", match: /f\.jsonl:1: must be a JSON object/ },
    {
      name: "a wrong feature count",
      text: lines({ x: [1, 2], label: 0 }, { x: [1], label: 0 }),
      match: /f\.jsonl:2: "x" has 1 numbers, expected 2/,
    },
    {
      name: "a non-number feature",
      text: lines({ x: [1, "2"], label: 0 }),
      match: /f\.jsonl:1: "x" must be an array of finite numbers/,
    },
    {
      name: "a missing label",
      text: lines({ x: [1] }),
      match: /f\.jsonl:1: "label" must be a string or a non-negative integer/,
    },
    {
      name: "an unknown label",
      text: lines({ x: [1], label: "a" }, { x: [1], label: "zebra" }),
      options: { classNames: ["a"] },
      match: /f\.jsonl:2: label "zebra" is not one of the 1 classes \[a\]/,
    },
    {
      name: "mixed int and string labels",
      text: lines({ x: [1], label: "a" }, { x: [1], label: 3 }),
      match: /f\.jsonl:2: int label 3 in a file with string labels/,
    },
    { name: "an empty file", text: "\n", match: /f\.jsonl: has no samples/ },
  ];
  for (const c of errors) {
    it(`rejects ${c.name} with the line number`, () => {
      assert.throws(() => parseJsonlFeatures(c.text, "f.jsonl", c.options ?? {}), c.match);
    });
  }

  it("says a missing file is missing", async () => {
    await assert.rejects(loadJsonlFeatures("/nonexistent/data.jsonl"), { name: "DatasetNotFoundError" });
  });
});

describe("JSONL text", () => {
  it("tokenizes, truncates and pads to seqLen", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "reviews.jsonl");
      await writeFile(
        path,
        lines({ text: "good film", label: "pos" }, { text: "bad bad bad film", label: "neg" }),
      );
      const ds = await loadJsonlTokens(path, { tokenize, seqLen: 3, padId: 0 });
      assert.deepEqual(ds.classNames, ["neg", "pos"]);
      assert.deepEqual(Array.from(ds.x), [2, 4, 0, 3, 3, 3]);
      assert.ok(ds.x instanceof Int32Array);
    });
  });

  it("takes pre-tokenized ids and stores int64 when asked", () => {
    const ds = parseJsonlTokens(lines({ ids: [101, 7, 102], label: 1 }), "m", { seqLen: 4, dtype: "int64" });
    assert.ok(ds.x instanceof BigInt64Array);
    assert.deepEqual(Array.from(ds.x), [101n, 7n, 102n, 0n]);
  });

  it("asks for a tokenizer when lines carry text", () => {
    assert.throws(
      () => parseJsonlTokens(lines({ text: "good", label: 0 }), "t.jsonl", { seqLen: 2 }),
      /tokenize: t\.jsonl:1 has "text"/,
    );
  });

  it("names the line whose ids are not integers", () => {
    assert.throws(
      () =>
        parseJsonlTokens(lines({ ids: [1], label: 0 }, { ids: [1.5], label: 0 }), "t.jsonl", { seqLen: 2 }),
      /t\.jsonl:2: "ids" must be an array of finite integers/,
    );
  });
});

describe("JSONL of the other kind than asked for (every line checked)", () => {
  it("text lines read as features: a JsonlKindError naming the line, its field and the one wanted", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "text.jsonl");
      await writeFile(path, lines({ text: "good film", label: 0 }, { text: "bad film", label: 1 }));
      await assert.rejects(loadJsonlFeatures(path, { inputField: "pixels" }), (e: unknown) => {
        assert.ok(e instanceof JsonlKindError, String(e));
        assert.deepEqual(
          [e.source, e.holds, e.foundField, e.wantedField],
          [`${path}:1`, "text", "text", "pixels"],
        );
        return true;
      });
    });
  });

  it("feature lines read as text: a JsonlKindError naming the features field", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "features.jsonl");
      await writeFile(path, lines({ input: [1, 2], label: 0 }, { input: [3, 4], label: 1 }));
      await assert.rejects(loadJsonlTokens(path, { tokenize, seqLen: 4 }), (e: unknown) => {
        assert.ok(e instanceof JsonlKindError, String(e));
        assert.deepEqual([e.source, e.holds, e.foundField], [`${path}:1`, "features", "input"]);
        return true;
      });
    });
  });

  it("a line with both kinds reads as either", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "both.jsonl");
      await writeFile(
        path,
        lines({ x: [1, 2], text: "good film", label: 0 }, { x: [3, 4], text: "bad", label: 1 }),
      );
      assert.deepEqual(Array.from((await loadJsonlFeatures(path)).labels), [0, 1]);
      assert.deepEqual(Array.from((await loadJsonlTokens(path, { tokenize, seqLen: 2 })).x), [2, 4, 3, 0]);
    });
  });
});

describe("JSONL whose lines mix kinds, or hold a features field the user named", () => {
  const mixed = (e: unknown, expected: [string, number, string, string, number, string]): boolean => {
    assert.ok(e instanceof JsonlMixedKindError, String(e));
    assert.deepEqual([e.path, e.line, e.holds, e.foundField, e.firstLine, e.wantedField], expected);
    assert.match(e.message, new RegExp(`:${e.line}: .*line ${e.firstLine}, the file's first sample`));
    return true;
  };

  it("a text line after feature lines: the file, that line and its field, and the first line's field", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "mixed.jsonl");
      await writeFile(
        path,
        lines({ x: [1, 2], label: 0 }, { x: [3, 4], label: 1 }, { text: "good film", label: 0 }),
      );
      await assert.rejects(loadJsonlFeatures(path), (e) => mixed(e, [path, 3, "text", "text", 1, "x"]));
    });
  });

  it("a feature line after text lines: the file, that line and its field", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "mixed.jsonl");
      await writeFile(
        path,
        "\n" + lines({ text: "good film", label: 0 }, { ids: [2, 3], label: 1 }, { input: [1, 2], label: 0 }),
      );
      await assert.rejects(loadJsonlTokens(path, { tokenize, seqLen: 4 }), (e) =>
        mixed(e, [path, 4, "features", "input", 2, "text"]),
      );
    });
  });

  it("a text line among lines of a named features field: named by that field", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "mixed.jsonl");
      await writeFile(path, lines({ pixels: [1, 2], label: 0 }, { ids: [2], label: 1 }));
      await assert.rejects(loadJsonlFeatures(path, { inputField: "pixels" }), (e) =>
        mixed(e, [path, 2, "text", "ids", 1, "pixels"]),
      );
    });
  });

  it("text lines whose sentence is in a string input field are not called number features", async () => {
    // a common layout of text datasets ({"input": "...", "label": ...}): the reader's own error
    // says which fields a text line needs, rather than that the line holds number features
    await withTempDir(async (dir) => {
      const path = join(dir, "sentences.jsonl");
      await writeFile(path, lines({ input: "good film", label: 0 }, { input: "bad", label: 1 }));
      await assert.rejects(loadJsonlTokens(path, { tokenize, seqLen: 4 }), (e: unknown) => {
        assert.ok(!(e instanceof JsonlKindError) && !(e instanceof JsonlMixedKindError), String(e));
        assert.match(String(e), /sentences\.jsonl:1: .*"text"/);
        return true;
      });
      const later = join(dir, "later.jsonl");
      await writeFile(later, lines({ text: "good film", label: 0 }, { input: "bad", label: 1 }));
      await assert.rejects(loadJsonlTokens(later, { tokenize, seqLen: 4 }), (e: unknown) => {
        assert.ok(!(e instanceof JsonlMixedKindError), String(e));
        assert.match(String(e), /later\.jsonl:2: .*"text"/);
        return true;
      });
    });
  });

  it("text in the field inputField names is read as the text field is, and a text line lacking it names it", async () => {
    await withTempDir(async (dir) => {
      const sentences = ["good film", "bad", "a long and winding film"];
      const plain = join(dir, "text.jsonl");
      await writeFile(plain, lines(...sentences.map((text, label) => ({ text, label }))));
      const named = join(dir, "sentence.jsonl");
      await writeFile(named, lines(...sentences.map((sentence, label) => ({ sentence, label }))));
      const options = { tokenize, seqLen: 4, padId: 0 };
      const want = await loadJsonlTokens(plain, options);
      const got = await loadJsonlTokens(named, { ...options, inputField: "sentence" });
      assert.deepEqual(Array.from(got.x), Array.from(want.x));
      assert.deepEqual(Array.from(got.labels), Array.from(want.labels));
      // "ids" still read beside it; a line with neither names the field asked for
      const mixed = join(dir, "mixed.jsonl");
      await writeFile(mixed, lines({ ids: [5, 6], label: 0 }, { text: "good film", label: 1 }));
      await assert.rejects(loadJsonlTokens(mixed, { ...options, inputField: "sentence" }), (e: unknown) => {
        assert.ok(e instanceof DatasetFormatError, String(e));
        assert.match(e.message, /mixed\.jsonl:2: needs "sentence" \(the text, a string\) or "ids"/);
        return true;
      });
    });
  });

  it("lines of a named features field read as text: a JsonlKindError naming that field", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "pixels.jsonl");
      await writeFile(path, lines({ pixels: [1, 2], label: 0 }, { pixels: [3, 4], label: 1 }));
      await assert.rejects(loadJsonlTokens(path, { tokenize, seqLen: 4, inputField: "pixels" }), (e) => {
        assert.ok(e instanceof JsonlKindError, String(e));
        assert.deepEqual([e.source, e.holds, e.foundField], [`${path}:1`, "features", "pixels"]);
        return true;
      });
    });
  });
});
