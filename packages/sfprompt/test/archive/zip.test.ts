// The zip reader against archives written by Python's zipfile (an independent writer): stored and
// deflated entries, nested and UTF-8 names, an archive comment; and each kind of damage a typed
// ZipFormatError naming the file and, where one is at fault, the entry.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { extractZipEntries, listZipEntries, readZipEntry, ZipFormatError } from "@sfprompt/core";

const PY_WRITER = `
import sys, zipfile, json
out, spec = sys.argv[1], json.loads(sys.argv[2])
with zipfile.ZipFile(out, "w") as z:
    for e in spec["entries"]:
        z.writestr(zipfile.ZipInfo(e["name"]), bytes(e["bytes"]), compress_type=e["method"])
    z.comment = spec.get("comment", "").encode()
`;

interface Spec {
  readonly name: string;
  readonly bytes: readonly number[];
  readonly method: number;
}

let dir = "";
function pyZip(file: string, entries: readonly Spec[], comment = ""): string {
  const path = join(dir, file);
  execFileSync("python3", ["-c", PY_WRITER, path, JSON.stringify({ entries, comment })]);
  return path;
}

/** Text that deflates well, so a deflated entry really is compressed. */
const text = [...Buffer.from("model weights ".repeat(400) + "end")];
const random = [...Array.from({ length: 3000 }, (_, i) => (i * 7919 + ((i * i) % 251)) % 256)];

before(() => {
  dir = mkdtempSync(join(tmpdir(), "sfp-zip-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("zip archives written by Python's zipfile", () => {
  it("lists and extracts stored and deflated entries byte for byte, nested and UTF-8 names included", () => {
    const entries: Spec[] = [
      { name: "pkg/model/config.json", bytes: [...Buffer.from('{"hidden_size": 384}')], method: 0 },
      { name: "pkg/model/vocab.txt", bytes: text, method: 8 },
      { name: "pkg/données/ü.bin", bytes: random, method: 8 },
      { name: "pkg/empty", bytes: [], method: 0 },
    ];
    const file = pyZip("ok.whl", entries, "a comment at the end");
    const buf = readFileSync(file);
    const listed = listZipEntries(buf, file);
    assert.deepEqual(
      listed.map((e) => [e.name, e.method, e.size]),
      entries.map((e) => [e.name, e.method, e.bytes.length]),
    );
    const vocab = listed[1]!;
    assert.ok(vocab.compressedSize < vocab.size / 10, `deflated ${vocab.compressedSize} of ${vocab.size}`);
    const dests = Object.fromEntries(entries.map((e, i) => [e.name, join(dir, `out-${i}`)]));
    extractZipEntries(file, dests);
    entries.forEach((e, i) => assert.deepEqual([...readFileSync(join(dir, `out-${i}`))], e.bytes, e.name));
  });
});

describe("damaged or unsupported archives", () => {
  const isZipError = (file: string, entry: string | undefined, pattern: RegExp) => (e: unknown) =>
    e instanceof ZipFormatError &&
    e.file === file &&
    e.entry === entry &&
    e.message.startsWith(file) &&
    pattern.test(e.message);

  it("a file that is not a zip names the missing end record", () => {
    const file = join(dir, "not-a-zip.whl");
    writeFileSync(file, "<html>502 Bad Gateway</html>".repeat(10));
    assert.throws(
      () => extractZipEntries(file, {}),
      isZipError(file, undefined, /no end-of-central-directory record/),
    );
  });

  it("an archive cut short names the missing end record", () => {
    const whole = readFileSync(pyZip("whole.whl", [{ name: "a", bytes: text, method: 8 }]));
    const file = join(dir, "cut.whl");
    writeFileSync(file, whole.subarray(0, whole.length - 30));
    assert.throws(
      () => extractZipEntries(file, { a: join(dir, "x") }),
      isZipError(file, undefined, /cut short/),
    );
  });

  it("a flipped byte in a deflated entry is refused naming the entry", () => {
    const file = pyZip("flipped.whl", [{ name: "pkg/weights.bin", bytes: random, method: 8 }]);
    const buf = readFileSync(file);
    const entry = listZipEntries(buf, file)[0]!;
    buf[entry.localOffset + 30 + entry.name.length + 100]! ^= 0xff;
    writeFileSync(file, buf);
    assert.throws(
      () => extractZipEntries(file, { "pkg/weights.bin": join(dir, "w") }),
      isZipError(
        file,
        "pkg/weights.bin",
        /does not inflate|CRC-32 .* is not the recorded|bytes, the directory says/,
      ),
    );
  });

  it("a flipped byte in a stored entry fails its CRC-32", () => {
    const file = pyZip("stored.whl", [{ name: "vocab.txt", bytes: text, method: 0 }]);
    const buf = readFileSync(file);
    const entry = listZipEntries(buf, file)[0]!;
    buf[entry.localOffset + 30 + entry.name.length + 5]! ^= 0x01;
    assert.throws(
      () => readZipEntry(buf, file, entry),
      isZipError(
        file,
        "vocab.txt",
        /CRC-32 [0-9a-f]{8} is not the recorded [0-9a-f]{8}: the archive is damaged/,
      ),
    );
  });

  it("an entry compressed with bzip2 names the method it cannot read", () => {
    const file = pyZip("bzip2.whl", [{ name: "model.bin", bytes: text, method: 12 }]);
    assert.throws(
      () => extractZipEntries(file, { "model.bin": join(dir, "m") }),
      isZipError(file, "model.bin", /compression method 12 \(only 0 stored and 8 deflated/),
    );
  });

  it("a wanted entry that is not there is named, with the archive's entry count", () => {
    const file = pyZip("missing.whl", [{ name: "pkg/config.json", bytes: [123, 125], method: 0 }]);
    assert.throws(
      () => extractZipEntries(file, { "pkg/model.safetensors": join(dir, "s") }),
      isZipError(file, "pkg/model.safetensors", /is not in the archive \(it holds 1 entry\)/),
    );
  });
});
