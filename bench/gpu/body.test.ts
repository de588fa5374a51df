// The GPU benchmark's script on a machine without CUDA (CI): with --allow-fallback it runs both
// variants end to end (the "CUDA" side then on CPU, said so in its report, with identical outputs);
// without it, it stops with the reason CUDA cannot be used instead of reporting a CPU number as a
// GPU one. On a GPU machine the first test still passes (provider cuda, small relative error).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./body.ts", import.meta.url));
let out = "";

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      ["--conditions=source", "--import", "tsx", script, ...args],
      { cwd: fileURLToPath(new URL("../..", import.meta.url)) },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

interface Report {
  batching: Array<{ model: string; provider: string; requests: number; batchedMs: number[]; relErr: number }>;
  results: Array<{
    model: string;
    variant: string;
    cuda: { provider: string; stepMs: number[] };
    cpu: { provider: string; stepMs: number[] };
    relErr: { bodyOutput: number; gradHeadOutput: number };
  }>;
}

before(() => {
  out = mkdtempSync(join(tmpdir(), "sfp-gpu-bench-"));
});
after(() => rmSync(out, { recursive: true, force: true }));

describe("bench/gpu/body.ts", () => {
  it("with --allow-fallback times both body variants on the demo model and says where the CUDA side ran", async () => {
    const r = await run([
      "--models",
      "demo",
      "--iters",
      "1",
      "--warmup",
      "0",
      "--threads",
      "1",
      "--batching",
      "2",
      "--allow-fallback",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, "gpu-body.json"), "utf8")) as Report;
    assert.deepEqual(
      report.results.map((x) => [x.model, x.variant]),
      [
        ["demo", "recompute"],
        ["demo", "save-activations"],
      ],
    );
    for (const x of report.results) {
      assert.equal(x.cpu.provider, "cpu");
      assert.ok(["cpu", "cuda"].includes(x.cuda.provider));
      assert.equal(x.cpu.stepMs.length, 1);
      assert.ok(x.cuda.stepMs[0]! > 0);
      // the same kernels on CPU give the same numbers; CUDA's differ a little (TF32)
      const bound = x.cuda.provider === "cpu" ? 0 : 1e-2;
      assert.ok(x.relErr.bodyOutput <= bound && x.relErr.gradHeadOutput <= bound, JSON.stringify(x.relErr));
    }
    // two requests one by one against one run of both: the same rows give the same gradients
    assert.equal(report.batching.length, 1);
    const b = report.batching[0]!;
    assert.deepEqual([b.model, b.requests, b.batchedMs.length], ["demo", 2, 1]);
    assert.ok(b.relErr <= (b.provider === "cpu" ? 1e-6 : 1e-2), String(b.relErr));
    const md = readFileSync(join(out, "gpu-body.md"), "utf8");
    assert.match(
      md,
      /\| demo \| recompute \| 32 \| 32×27×64 → 32×64 \| [0-9.]+ \([0-9.]+ \+ [0-9.]+\) \| (cpu|cuda) \|/,
    );
    assert.match(md, /^\| demo \| (cpu|cuda) \| [0-9.]+ \| [0-9.]+ \| \d+ \| \d+ \| \*\*[0-9.]+×\*\* \|/m);
    assert.equal(r.stdout, md);
  });

  it("without it, where CUDA cannot be used, stops and says why instead of reporting CPU as CUDA", async (t) => {
    const r = await run(["--models", "demo", "--iters", "1", "--warmup", "0", "--out", join(out, "strict")]);
    if (r.code === 0) {
      // a machine with a usable GPU: then the report must say cuda
      const report = JSON.parse(readFileSync(join(out, "strict", "gpu-body.json"), "utf8")) as Report;
      assert.ok(report.results.every((x) => x.cuda.provider === "cuda"));
      t.diagnostic("CUDA was usable here: checked that the report says cuda");
      return;
    }
    assert.equal(r.code, 1);
    // ONNX Runtime logs its own line first; ours names the graph and the reason
    assert.match(
      r.stderr,
      /^bench\/gpu\/body\.ts: body\.onnx: CUDA was asked for and cpuFallback is false, but CUDA cannot be used \(/m,
    );
    assert.match(r.stderr, /--allow-fallback runs the CUDA side on CPU/);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace for a known failure");
  });
});
