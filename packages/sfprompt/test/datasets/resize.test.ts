// Image resizing: bilinear against PyTorch's interpolate (Debian python3-torch), area against an
// exact supersampled box filter and torch's avg_pool2d for integer factors.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Rng, resizeDataset, resizeImages, type ResizeSpec } from "@sfprompt/core";
import { numberedImages } from "./fixtures.js";

const PYTHON = "/usr/bin/python3";

function randomImages(shape: [number, number, number, number], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next());
}

interface TorchCase {
  x: Float32Array;
  shape: number[];
  spec: ResizeSpec;
  op: "bilinear" | "avgpool";
}

// Runs torch once on all cases (starting Python with torch costs seconds); outputs flattened.
function torchResize(cases: TorchCase[]): number[][] | "no torch" {
  const script = `
import json, sys, torch, torch.nn.functional as F
out = []
for a in json.load(sys.stdin):
    x = torch.tensor(a["x"], dtype=torch.float32).reshape(a["shape"])
    if a["op"] == "bilinear":
        y = F.interpolate(x, size=(a["h"], a["w"]), mode="bilinear", align_corners=False)
    else:
        y = F.avg_pool2d(x, kernel_size=(x.shape[2] // a["h"], x.shape[3] // a["w"]))
    out.append(y.flatten().tolist())
print(json.dumps(out))
`;
  const input = JSON.stringify(
    cases.map((c) => ({ x: Array.from(c.x), shape: c.shape, h: c.spec.height, w: c.spec.width, op: c.op })),
  );
  if (!existsSync(PYTHON)) return "no torch";
  const r = spawnSync(PYTHON, ["-c", script], { input, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0 && r.stderr.includes("No module named 'torch'")) return "no torch";
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[][];
}

// Exact area reference: split every pixel into an L×L grid of cells (L = lcm / size), so each
// cell lies in exactly one input and one output pixel, then average the cells per output pixel.
function areaReference(x: Float32Array, h: number, w: number, oh: number, ow: number): Float32Array {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const fy = (h * oh) / gcd(h, oh);
  const fx = (w * ow) / gcd(w, ow);
  const out = new Float32Array(oh * ow);
  for (let cy = 0; cy < fy; cy++) {
    for (let cx = 0; cx < fx; cx++) {
      const v = x[Math.floor((cy * h) / fy) * w + Math.floor((cx * w) / fx)]!;
      const o = Math.floor((cy * oh) / fy) * ow + Math.floor((cx * ow) / fx);
      out[o] = out[o]! + v / ((fy / oh) * (fx / ow));
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("resize", () => {
  const torchCases: Array<{
    name: string;
    shape: [number, number, number, number];
    spec: ResizeSpec;
    op: "bilinear" | "avgpool";
  }> = [
    {
      name: "bilinear 28→16 (shrinking)",
      shape: [2, 1, 28, 28],
      spec: { height: 16, width: 16, method: "bilinear" },
      op: "bilinear",
    },
    {
      name: "bilinear 28→32 (growing)",
      shape: [2, 1, 28, 28],
      spec: { height: 32, width: 32 },
      op: "bilinear",
    },
    {
      name: "bilinear 5×6→7×4 on 3 channels",
      shape: [1, 3, 5, 6],
      spec: { height: 7, width: 4, method: "bilinear" },
      op: "bilinear",
    },
    {
      name: "area 28→14, as a 2×2 average pool",
      shape: [2, 1, 28, 28],
      spec: { height: 14, width: 14 },
      op: "avgpool",
    },
  ];
  it("matches PyTorch's interpolate / avg_pool2d on every case", (t) => {
    const inputs = torchCases.map((c) => ({ ...c, x: randomImages(c.shape, 3) }));
    const expected = torchResize(inputs);
    if (expected === "no torch") {
      t.skip(`${PYTHON} has no torch: install Debian python3-torch to run this oracle`);
      return;
    }
    inputs.forEach((c, i) => {
      const diff = maxAbsDiff(resizeImages(c.x, c.shape, c.spec), expected[i]!);
      assert.ok(diff < 1e-5, `${c.name}: max |ours - torch| = ${diff}`);
    });
  });

  const areaCases = [
    { h: 28, w: 28, oh: 16, ow: 16 },
    { h: 28, w: 28, oh: 10, ow: 12 },
    { h: 8, w: 8, oh: 3, ow: 5 },
  ];
  for (const c of areaCases) {
    it(`averages exact pixel areas for ${c.h}×${c.w}→${c.oh}×${c.ow}`, () => {
      const x = randomImages([1, 1, c.h, c.w], 5);
      const ours = resizeImages(x, [1, 1, c.h, c.w], { height: c.oh, width: c.ow, method: "area" });
      assert.ok(maxAbsDiff(ours, areaReference(x, c.h, c.w, c.oh, c.ow)) < 1e-5);
    });
  }

  it("keeps a constant image constant with either method and preserves the mean under area", () => {
    const x = new Float32Array(28 * 28).fill(0.25);
    for (const method of ["area", "bilinear"] as const) {
      const y = resizeImages(x, [1, 1, 28, 28], { height: 11, width: 19, method });
      assert.ok(maxAbsDiff(y, new Float32Array(y.length).fill(0.25)) < 1e-6);
    }
    const r = randomImages([1, 1, 28, 28], 8);
    const mean = (v: Float32Array): number => v.reduce((a, b) => a + b, 0) / v.length;
    assert.ok(Math.abs(mean(resizeImages(r, [1, 1, 28, 28], { height: 7, width: 7 })) - mean(r)) < 1e-5);
  });

  it("resizes a dataset view, keeping labels and changing the sample shape", () => {
    const ds = numberedImages(4, [2, 4, 4]);
    const small = resizeDataset(ds, { height: 2, width: 2 });
    assert.deepEqual(small.sampleShape, [2, 2, 2]);
    assert.deepEqual(small.labels, ds.labels);
    assert.equal(small.x.length, 4 * 2 * 2 * 2);
  });

  it("rejects a zero target size", () => {
    assert.throws(() => resizeImages(new Float32Array(4), [1, 1, 2, 2], { height: 0, width: 2 }), {
      name: "DatasetArgumentError",
    });
  });
});
