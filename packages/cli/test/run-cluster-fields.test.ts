// `sfprompt run` of a job written for a cluster: the fields that only a cluster acts on (a suspended
// job, node placement, pod env, the NATS URL, a results volume) were left out without a word, so
// `sfprompt run examples/suspended.yaml` trained at once and a job's spec.server.env never reached
// its processes. The run now names them in one line before it starts, and runs the job. Real CLI,
// nats-server and processes.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  FAILS_AFTER_START,
  sfprompt,
  sfpromptFailingStart,
  writeFailsAfterStartJob,
  writeTinyJob,
} from "./run-helpers.js";

const NOTE =
  /^tiny: sfprompt run starts every process on this machine and leaves out what only a cluster acts on: (.*)$/m;

describe("sfprompt run of a job with cluster-only fields", () => {
  let dir = "";
  let job = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "cli-cluster-fields-"));
    job = writeTinyJob(dir, "{ rounds: 1, batchSize: 16, evaluation: { maxSamples: 40 } }");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names each one it leaves out, with the local way where there is one, and runs the job", () => {
    const text = readFileSync(job, "utf8")
      .replace(
        "  clients: { count: 2 }",
        "  clients: { count: 2, nodeSelector: { site: plant-1 }, spreadOnePerNode: true }\n  suspend: true",
      )
      .replace(
        "  server: { executionProvider: cpu }",
        "  server: { executionProvider: cpu, env: [{ name: OMP_NUM_THREADS, value: '2' }] }\n" +
          "  transport: { url: 'nats://nats.infra.svc:4222' }\n" +
          "  output: { persistentVolumeClaim: { claimName: results } }",
      );
    const file = join(dir, "cluster.yaml");
    writeFileSync(file, text);
    const r = sfprompt("run", file, "--out", join(dir, "out-cluster"));
    assert.equal(r.code, 0, r.stderr);
    const fields = NOTE.exec(r.stderr)?.[1];
    assert.equal(
      fields,
      "spec.suspend (the job runs now), spec.clients.nodeSelector, spec.clients.spreadOnePerNode, " +
        "spec.server.env (set such variables in this shell), spec.transport.url (--nats URL uses a NATS " +
        "server of yours), spec.output.persistentVolumeClaim (the results are in the run directory)",
      r.stderr,
    );
    // said before anything ran
    assert.ok(r.stderr.indexOf(fields) < r.stderr.indexOf("round 1/1"), r.stderr);
    assert.match(r.stdout, /final accuracy/);
  });

  it("says nothing of the kind for a job that sets none of them", () => {
    // a demo model it cannot pre-train (no Fashion-MNIST): refused after the line would come (a
    // missing path, a file that is no ONNX model, a split the model cannot give or an op the engine
    // cannot differentiate is refused before the run starts, with the job's other checks)
    const file = writeFailsAfterStartJob(dir, job, "plain");
    const r = sfpromptFailingStart(dir, "run", file, "--out", join(dir, "out-plain"));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^starting tiny in /m);
    assert.match(r.stderr, FAILS_AFTER_START);
    assert.doesNotMatch(r.stderr, /only a cluster/);
  });
});
