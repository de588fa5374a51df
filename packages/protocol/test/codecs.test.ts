import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CodecRangeError,
  decodeSingleMessage,
  decodeTensorBytes,
  encodeFrame,
  encodeTensorInto,
  encodedByteLength,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  type Codec,
  type OutgoingTensor,
} from "@sfprompt/protocol";
import { baseFrame, headerFor, randomTensor, rawFrame } from "./builders.js";

function roundTrip(t: OutgoingTensor, codec: Codec): Float32Array {
  const out = new Uint8Array(encodedByteLength(t.dtype, codec, t.shape));
  const written = encodeTensorInto(t, codec, out, 0);
  assert.equal(written, out.length);
  return decodeTensorBytes(out, t.dtype, codec, t.shape) as Float32Array;
}

function tensor(values: number[], shape = [values.length]): OutgoingTensor {
  return { name: "x", dtype: "float32", shape, data: new Float32Array(values) };
}

/** Half of one unit in the last place of float32 `x` for a format with `mantissaBits` stored bits. */
function halfUlp(x: number, mantissaBits: number, minExp: number): number {
  const e = Math.max(Math.floor(Math.log2(Math.abs(x))), minExp);
  return 2 ** (e - mantissaBits) / 2;
}

describe("f32 codec", () => {
  it("round-trips every float32 bit-exactly, including -0, subnormals and the extremes", () => {
    const values = [0, -0, 1.4e-45, -3.4028234663852886e38, 3.4028234663852886e38, 1 / 3, -7.25];
    const back = roundTrip(tensor(values), "f32");
    assert.deepEqual(
      [...back].map(Object.is.bind(null, 0)),
      values.map((v) => Object.is(v, 0)),
    );
    assert.deepEqual(new Uint8Array(back.buffer), new Uint8Array(new Float32Array(values).buffer));
  });
});

describe("f16 codec", () => {
  it("decodes and re-encodes every finite f16 bit pattern to the same bits", () => {
    const bits = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) {
      bits[2 * h] = h & 0xff;
      bits[2 * h + 1] = h >> 8;
    }
    const values = decodeTensorBytes(bits, "float32", "f16", [65536]) as Float32Array;
    const u32 = new Uint32Array(values.buffer);
    let checked = 0;
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // Inf/NaN
      assert.equal(f32BitsToF16Bits(u32[h]!), h, `pattern 0x${h.toString(16)}`);
      checked++;
    }
    assert.equal(checked, 63488);
  });

  it("keeps random values within half an f16 ulp (relative 2^-11 for normals)", () => {
    const t = randomTensor("x", [64, 96], 11, 1000);
    const back = roundTrip(t, "f16");
    const src = t.data as Float32Array;
    for (let i = 0; i < src.length; i++) {
      assert.ok(
        Math.abs(back[i]! - src[i]!) <= halfUlp(src[i]!, 10, -14),
        `element ${i}: ${src[i]} -> ${back[i]}`,
      );
    }
  });

  const cases: { name: string; input: number; expected: number }[] = [
    { name: "the largest f16 stays exact", input: 65504, expected: 65504 },
    { name: "just below the overflow threshold rounds down to 65504", input: 65519, expected: 65504 },
    { name: "the smallest subnormal stays exact", input: 2 ** -24, expected: 2 ** -24 },
    { name: "a quarter of the smallest subnormal flushes to zero", input: 2 ** -26, expected: 0 },
    { name: "a tie rounds to the even mantissa (down)", input: 1 + 2 ** -11, expected: 1 },
    { name: "a tie rounds to the even mantissa (up)", input: 1 + 3 * 2 ** -11, expected: 1 + 2 ** -9 },
    { name: "negative zero keeps its sign", input: -0, expected: -0 },
  ];
  for (const c of cases) {
    it(c.name, () => assert.ok(Object.is(roundTrip(tensor([c.input]), "f16")[0], c.expected)));
  }

  it("refuses a finite value beyond the f16 range, naming the element", () => {
    assert.throws(
      () => roundTrip(tensor([1, 2, 70000]), "f16"),
      (e: unknown) => {
        assert.ok(e instanceof CodecRangeError);
        assert.match(e.message, /element 2 = 70000/);
        return true;
      },
    );
  });

  it("carries Infinity and NaN as such (the receiver rejects them)", () => {
    const back = roundTrip(tensor([Infinity, -Infinity, NaN]), "f16");
    assert.deepEqual([...back], [Infinity, -Infinity, NaN]);
  });
});

describe("bf16 codec", () => {
  it("decodes and re-encodes every finite bf16 bit pattern to the same bits", () => {
    let checked = 0;
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7f80) === 0x7f80) continue;
      u[0] = h << 16;
      assert.equal(f32BitsToBf16Bits(u[0]!), h);
      checked++;
    }
    assert.equal(checked, 65280);
  });

  it("keeps random values within half a bf16 ulp (relative 2^-8)", () => {
    const t = randomTensor("x", [32, 128], 5, 1e6);
    const back = roundTrip(t, "bf16");
    const src = t.data as Float32Array;
    for (let i = 0; i < src.length; i++) {
      assert.ok(Math.abs(back[i]! - src[i]!) <= halfUlp(src[i]!, 7, -126), `element ${i}`);
    }
  });

  it("refuses a finite value that rounds past the bf16 range, pointing to f32 only", () => {
    const f32Max = new Float32Array(new Uint32Array([0x7f7fffff]).buffer)[0]!;
    assert.throws(
      () => roundTrip(tensor([1, -f32Max]), "bf16"),
      (e: unknown) => {
        assert.ok(e instanceof CodecRangeError);
        assert.match(e.message, /element 1 = -3\.40282\d*e\+38 is out of bf16 range \(use f32\)/);
        return true;
      },
    );
  });

  it("keeps the float32 range that f16 cannot carry", () => {
    const back = roundTrip(tensor([1e30, -1e-30]), "bf16");
    assert.ok(Math.abs(back[0]! - 1e30) / 1e30 <= 2 ** -8);
    assert.ok(Math.abs(back[1]! + 1e-30) / 1e-30 <= 2 ** -8);
  });
});

describe("int8 codec with per-row scales", () => {
  it("bounds every element's error by its row's max|x| / 254", () => {
    const t = randomTensor("x", [8, 4, 50], 3, 10);
    const back = roundTrip(t, "int8");
    const src = t.data as Float32Array;
    for (let r = 0; r < 32; r++) {
      let maxAbs = 0;
      for (let i = r * 50; i < (r + 1) * 50; i++) maxAbs = Math.max(maxAbs, Math.abs(src[i]!));
      for (let i = r * 50; i < (r + 1) * 50; i++) {
        assert.ok(Math.abs(back[i]! - src[i]!) <= (maxAbs / 254) * (1 + 1e-6), `row ${r} element ${i}`);
      }
    }
  });

  it("scales rows independently: a huge row does not blur a tiny one", () => {
    const t = tensor([1000, -500, 0.001, -0.0005], [2, 2]);
    const src = t.data as Float32Array;
    const back = roundTrip(t, "int8");
    const step = src[2]! / 127;
    assert.ok(Math.abs(back[2]! - src[2]!) <= step * 1e-3, `the row max is exact up to float rounding`);
    assert.ok(Math.abs(back[3]! - src[3]!) <= (step / 2) * (1 + 1e-6));
  });

  it("takes one f32 scale per row plus one byte per element", () => {
    assert.equal(encodedByteLength("float32", "int8", [3, 5, 7]), 15 * 4 + 105);
  });

  const edge: { name: string; values: number[]; shape: number[] }[] = [
    { name: "an all-zero row decodes to zeros", values: [0, 0, 0], shape: [1, 3] },
    { name: "a scalar is one row of one element", values: [-2.5], shape: [] },
    { name: "an empty last dimension has no rows", values: [], shape: [3, 0] },
    { name: "an empty leading dimension has no rows", values: [], shape: [0, 4] },
  ];
  for (const c of edge) {
    it(c.name, () => {
      const back = roundTrip(tensor(c.values, c.shape), "int8");
      assert.deepEqual([...back], c.values);
    });
  }

  // Rows at the ends of the float32 range, each checked against max|x_row|/254: the half step of a
  // scale computed independently here (exactly, in float64), plus half the smallest float32 subnormal
  // (a scale cannot be finer than that) and the float32 rounding of the scale itself.
  const extremes: { name: string; values: number[] }[] = [
    { name: "a row holding the largest float32 decodes finite", values: [3.4028234663852886e38, -1e38, 7] },
    {
      name: "a row holding minus the largest float32 decodes finite",
      values: [-3.4028234663852886e38, 2e37],
    },
    { name: "a row of subnormals below 127 steps of 2^-149 keeps them", values: [1e-44, -3e-45, 2 ** -149] },
    { name: "a row of subnormals keeps them within half a step", values: [1.1e-42, -7.7e-43, 3e-45] },
    { name: "a row whose max is near the smallest normal", values: [1.2e-38, -5e-39, 1e-40] },
  ];
  for (const c of extremes) {
    it(c.name, () => {
      const src = new Float32Array(c.values);
      const back = roundTrip(tensor([...src], [1, src.length]), "int8");
      const maxAbs = Math.max(...[...src].map(Math.abs));
      const bound = (maxAbs / 254) * (1 + 2 ** -22) + 2 ** -150;
      src.forEach((x, i) => {
        assert.ok(Number.isFinite(back[i]!), `element ${i} = ${x} decodes to ${back[i]}`);
        assert.ok(Math.abs(back[i]! - x) <= bound, `element ${i}: ${x} -> ${back[i]} (bound ${bound})`);
      });
    });
  }

  it("refuses NaN, which int8 cannot carry", () => {
    assert.throws(() => roundTrip(tensor([1, NaN], [1, 2]), "int8"), CodecRangeError);
  });
});

// int8 asked for a tensor of short rows: a float32 scale per row costs 4/L bytes per element on top of
// int8's one, 5 for [N, 1]; bf16 takes 2 and keeps int8's bound (ADR 0004 amendment 8).
describe("int8 asked for a tensor whose rows are short", () => {
  /** Sends `t` asked in int8 through a real frame; what the header says and what decodes. */
  function sendInt8(t: OutgoingTensor): { codec: Codec; bytes: number; back: Float32Array } {
    const frame = encodeFrame({ ...baseFrame, tensors: [{ ...t, codec: "int8" }] }, 1 << 24);
    const entry = frame.header.tensors[0]!;
    const back = decodeSingleMessage(frame.chunks[0]!).tensors[0]!.data as Float32Array;
    return { codec: entry.codec, bytes: entry.byteLength, back };
  }

  /** Each element within its row's max|x|/254 of the value sent (int8's bound). */
  function assertRowBound(src: Float32Array, back: Float32Array, rowLength: number): void {
    for (let r = 0; r * rowLength < src.length; r++) {
      const row = src.subarray(r * rowLength, (r + 1) * rowLength);
      const maxAbs = Math.max(...Array.from(row, Math.abs));
      row.forEach((x, j) => {
        const i = r * rowLength + j;
        assert.ok(
          Math.abs(back[i]! - x) <= (maxAbs / 254) * (1 + 2 ** -22),
          `element ${i}: ${x} -> ${back[i]}`,
        );
      });
    }
  }

  const shapes: number[][] = [[1000, 1], [1000, 2], [1000, 3], [1000, 4], [1000, 5], [125, 8], [4, 768], []];
  it("sends the fewer bytes of per-row int8 and bf16, ties to bf16, every element within int8's bound", (t) => {
    const table = ["shape        f32    f16  int8/row   sent (codec)"];
    for (const shape of shapes) {
      const src = randomTensor("x", shape, 5, 10);
      const [f32, f16, perRow] = (["f32", "f16", "int8"] as const).map((c) =>
        encodedByteLength("float32", c, shape),
      );
      const sent = sendInt8(src);
      const rowLength = shape.at(-1) ?? 1;
      table.push(
        `[${shape.join(", ")}]`.padEnd(12) +
          [f32, f16, perRow].map((n) => String(n).padStart(7)).join("") +
          `${String(sent.bytes).padStart(8)} (${sent.codec})`,
      );
      assert.equal(sent.bytes, Math.min(perRow!, f16!), `[${shape.join(", ")}]`);
      assert.equal(sent.codec, perRow! < f16! ? "int8" : "bf16", `[${shape.join(", ")}]`);
      assertRowBound(src.data as Float32Array, sent.back, rowLength);
    }
    for (const line of table) t.diagnostic(line);
  });

  // bf16 would break int8's promise here: keep per-row int8 (its own handling, or its own refusal)
  const keepInt8: { name: string; values: number[] }[] = [
    {
      name: "a column holding the largest float32 (bf16 rounds it to Infinity)",
      values: [3.4028234663852886e38, 1],
    },
    { name: "a column holding float32 subnormals (bf16 keeps 7 bits less of them)", values: [1.1e-42, 2.5] },
  ];
  for (const c of keepInt8) {
    it(`stays per-row int8 for ${c.name}`, () => {
      const src = new Float32Array(c.values);
      const sent = sendInt8(tensor([...src], [src.length, 1]));
      assert.equal(sent.codec, "int8");
      assert.equal(sent.bytes, encodedByteLength("float32", "int8", [src.length, 1]));
      src.forEach((x, i) =>
        assert.ok(Math.abs(sent.back[i]! - x) <= Math.abs(x) / 254 + 2 ** -150, `${x} -> ${sent.back[i]}`),
      );
    });
  }

  it("refuses NaN in a column as int8 does", () => {
    assert.throws(
      () => encodeFrame({ ...baseFrame, tensors: [{ ...tensor([1, NaN], [2, 1]), codec: "int8" }] }, 1 << 20),
      (e: unknown) => e instanceof CodecRangeError && /int8 cannot carry NaN/.test(e.message),
    );
  });

  it("still decodes a column sent in per-row int8 by an earlier sender", () => {
    const src = randomTensor("x", [50, 1], 9, 3);
    const payload = new Uint8Array(encodedByteLength("float32", "int8", [50, 1]));
    encodeTensorInto(src, "int8", payload, 0);
    const entry = {
      name: "x",
      dtype: "float32" as const,
      codec: "int8" as const,
      shape: [50, 1],
      byteLength: payload.length,
    };
    const back = decodeSingleMessage(rawFrame(headerFor(payload, { tensors: [entry] }), payload)).tensors[0]!;
    assertRowBound(src.data as Float32Array, back.data as Float32Array, 1);
  });
});
