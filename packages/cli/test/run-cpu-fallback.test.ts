// `sfprompt run` of a job that asks for CUDA (spec.server.executionProvider's default) on a machine
// whose ONNX Runtime has no CUDA provider: the server ran the body on CPU and said so in
// logs/server.log only, so a user with a GPU saw slow rounds and no reason. The run now says it on
// stderr, with the server's reason and what to do. A real run: the CLI, nats-server, server and
// client processes, real ONNX sessions; what the server really ran on is read from its log.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sfprompt, writeTinyJob } from "./run-helpers.js";

/** The provider the server's log says it runs the body on (event execution-provider). */
function providerInLog(out: string): string | undefined {
  const lines = readFileSync(join(out, "logs", "server.log"), "utf8").split("\n");
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { event?: string; provider?: string };
    if (e.event === "execution-provider") return e.provider;
  }
  return undefined;
}

describe("sfprompt run of a job that asks for CUDA", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-cpu-fallback-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("says on stderr when the server runs the body on CPU instead, and why", () => {
    const job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 40 } }");
    writeFileSync(
      job,
      readFileSync(job, "utf8").replace(
        "server: { executionProvider: cpu }",
        "server: { executionProvider: cuda }",
      ),
    );
    assert.match(readFileSync(job, "utf8"), /executionProvider: cuda/);
    const out = join(dir, "out");
    const r = sfprompt("run", job, "--out", out);
    assert.equal(r.code, 0, r.stderr);
    const said =
      /tiny: the server runs the body on CPU, not CUDA \(spec\.server\.executionProvider: cuda\): .+; set spec\.server\.executionProvider: cpu to ask for CPU/;
    const provider = providerInLog(out);
    if (provider === "cpu") assert.match(r.stderr, said);
    else {
      // a machine with ONNX Runtime's CUDA provider and a GPU: nothing to say
      assert.equal(provider, "cuda", "the server's log names the provider it runs on");
      assert.doesNotMatch(r.stderr, /runs the body on CPU/);
    }
  });

  it("with cpuFallback false fails naming this machine, the fields and ONNX Runtime's reason once", () => {
    const job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 40 } }");
    writeFileSync(
      job,
      readFileSync(job, "utf8").replace(
        "server: { executionProvider: cpu }",
        "server: { executionProvider: cuda, cpuFallback: false }",
      ),
    );
    const out = join(dir, "out-no-fallback");
    const r = sfprompt("run", job, "--out", out);
    if (r.code === 0) {
      // a machine with ONNX Runtime's CUDA provider and a GPU: the job ran on it
      assert.equal(providerInLog(out), "cuda", "the server's log names the provider it runs on");
      return;
    }
    assert.equal(r.code, 1, r.stderr);
    const line = r.stderr.split("\n").find((l) => l.startsWith("sfprompt run: the job failed:")) ?? "";
    assert.ok(
      line.startsWith(
        `sfprompt run: the job failed: ExecutionProviderError: server ${hostname()} (this machine): ` +
          "spec.server.executionProvider is cuda and spec.server.cpuFallback is false, but ONNX Runtime cannot use CUDA for body.onnx: ",
      ),
      r.stderr,
    );
    assert.equal(line.split("cpuFallback is false").length - 1, 1, line);
    assert.ok(line.endsWith("or set spec.server.cpuFallback: true to run on CPU"), line);
  });
});
