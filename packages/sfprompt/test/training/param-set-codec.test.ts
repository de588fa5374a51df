import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import { ParamSetCodecError, ParamSetMismatchError } from "../../src/training/errors.js";
import {
  decodeParamSet,
  decodeParamSetWithMeta,
  encodeParamSet,
  PARAM_SET_FORMAT_VERSION,
} from "../../src/training/param-set-codec.js";
import { paramCount, paramSet, paramsAllClose, type ParamSet } from "../../src/training/param-set.js";
import { randomParams } from "./fixtures.js";

/** Recomputes the trailing checksum so that a test can reach the checks behind it. */
function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

function bitExact(a: ParamSet, b: ParamSet): boolean {
  return paramsAllClose(a, b, { atol: 0, rtol: 0 });
}

describe("ParamSet codec round trip", () => {
  const cases: Array<{ name: string; params: ParamSet; meta?: unknown }> = [
    { name: "a prompt and tail set round-trips bit for bit", params: randomParams(11, 10, 16, 5) },
    {
      name: "metadata travels with the tensors",
      params: randomParams(12),
      meta: { round: 3, client: "c-1" },
    },
    { name: "an empty set round-trips", params: new Map() },
    {
      name: "scalars, zero-sized tensors and non-ASCII names round-trip",
      params: paramSet([
        ["scale", { data: new Float32Array([Math.PI]), shape: [] }],
        ["empty", { data: new Float32Array(0), shape: [0, 4] }],
        ["pröмpt/∆", { data: new Float32Array([-0, Infinity, -1e-38]), shape: [3] }],
      ]),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bytes = encodeParamSet(c.params, c.meta);
      const got = decodeParamSetWithMeta(bytes, { expect: c.params });
      assert.ok(bitExact(got.params, c.params));
      assert.deepEqual([...got.params.keys()], [...c.params.keys()]);
      assert.deepEqual(got.meta, c.meta);
    });
  }

  it("the encoding is compact: header, padding, 4 bytes per value and a checksum", () => {
    const p = randomParams(13, 10, 16, 5);
    const header =
      16 + [...p].reduce((n, [name, t]) => n + 2 + Buffer.byteLength(name) + 2 + 4 * t.shape.length, 0);
    const want = Math.ceil(header / 4) * 4 + 4 * paramCount(p) + 4;
    assert.equal(encodeParamSet(p).length, want);
  });

  it("bytes at an unaligned offset inside a larger buffer decode", () => {
    const p = randomParams(14);
    const bytes = encodeParamSet(p);
    const big = new Uint8Array(bytes.length + 7);
    big.set(bytes, 3);
    assert.ok(bitExact(decodeParamSet(big.subarray(3, 3 + bytes.length)), p));
  });
});

describe("ParamSet codec errors", () => {
  const p = randomParams(21);
  const good = encodeParamSet(p);
  const firstDtypeOffset = 16 + 2 + Buffer.byteLength("prompt");
  const cases: Array<{
    name: string;
    bytes: () => Uint8Array;
    expect?: ParamSet;
    error: RegExp;
    kind?: "mismatch";
  }> = [
    { name: "an empty buffer is too short", bytes: () => new Uint8Array(0), error: /too short/ },
    {
      name: "other bytes lack the magic",
      bytes: () => new TextEncoder().encode("{}".padEnd(40, " ")),
      error: /SFPS/,
    },
    {
      name: "a newer format version is refused with both versions named",
      bytes: () => {
        const b = good.slice();
        new DataView(b.buffer).setUint16(4, PARAM_SET_FORMAT_VERSION + 1, true);
        return b;
      },
      error: /version 2; this build reads version 1/,
    },
    {
      name: "a flipped payload bit fails the checksum",
      bytes: () => {
        const b = good.slice();
        b[b.length - 10] = (b[b.length - 10] as number) ^ 0x10;
        return b;
      },
      error: /checksum/,
    },
    {
      name: "a truncated buffer fails the checksum",
      bytes: () => good.subarray(0, good.length - 9),
      error: /checksum/,
    },
    {
      name: "a truncated payload with a valid checksum is reported as truncated",
      bytes: () => resealed(good.subarray(0, good.length - 8)),
      error: /truncated while reading values of 'tail.bias'/,
    },
    {
      name: "an unknown dtype names the tensor",
      bytes: () => {
        const b = good.slice();
        b[firstDtypeOffset] = 7;
        return resealed(b);
      },
      error: /'prompt' has dtype code 7/,
    },
    {
      name: "extra bytes before the checksum are refused",
      bytes: () => {
        const b = new Uint8Array(good.length + 4);
        b.set(good.subarray(0, good.length - 4));
        return resealed(b);
      },
      error: /4 unexpected trailing bytes/,
    },
    {
      name: "a set saved for another prompt count names the parameter and both shapes",
      bytes: () => encodeParamSet(randomParams(21, 5)),
      expect: p,
      error: /'prompt' has shape \[5, 4\] in .* but \[3, 4\]/,
      kind: "mismatch",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(
        () => decodeParamSet(c.bytes(), { expect: c.expect, source: "checkpoint round 2" }),
        (err: unknown) => {
          assert.ok(
            err instanceof (c.kind === "mismatch" ? ParamSetMismatchError : ParamSetCodecError),
            String(err),
          );
          assert.match((err as Error).message, c.error);
          if (!c.kind) assert.match((err as Error).message, /checkpoint round 2/);
          return true;
        },
      );
    });
  }
});
