// scripts/run-tests.mjs lists every failure at the end of its output (CI keeps only the end). A test
// file whose tests pass but whose process then fails is listed with how its process ended and the
// last lines it wrote to stderr: CI's record of stop 24 named such a file with only "test failed".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { it } from "node:test";

const runTests = new URL("../../../scripts/run-tests.mjs", import.meta.url).pathname;

function runFixture(
  fixture: string,
  more: NodeJS.ProcessEnv = {},
): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEST_ROOTS: "scripts/test-runner/fixtures",
    TEST_CONCURRENCY: "1",
    ...more,
  };
  // this file runs under node --test itself: the inner runner must not think it is a test file
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [runTests, `${fixture}.test.ts`], { env, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

it("a file that exits non-zero after its tests passed is listed with its exit code and its stderr's last lines", () => {
  const r = runFixture("passes-then-exits-3");
  assert.equal(r.code, 1, `the runner fails the run\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^ok 1 - passes$/m, "the fixture's test itself passed");
  const listed = r.stderr.slice(r.stderr.indexOf("1 failing test:"));
  assert.match(
    listed,
    /✖ scripts\/test-runner\/fixtures\/passes-then-exits-3\.test\.ts: \(the file's process\) \[testCodeFailure\]\n\s+test failed: its process exited with code 3 with no failing test in it\n\s+the last line it wrote to stderr:\n\s+fixture: something failed after the tests had ended\n/,
    r.stderr,
  );
});

it("a file whose test left work that failed after it ended is listed with node's diagnostic naming the test and the error", () => {
  const r = runFixture("rejects-after-its-test");
  assert.equal(r.code, 1, `the runner fails the run\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^ok 1 - passes, leaving a rejection behind$/m, "the fixture's test itself passed");
  const listed = r.stderr.slice(r.stderr.indexOf("1 failing test:"));
  assert.match(
    listed,
    /✖ scripts\/test-runner\/fixtures\/rejects-after-its-test\.test\.ts: \(the file's process\) \[testCodeFailure\]\n\s+test failed: its process exited with code 1 with no failing test in it\n/,
    r.stderr,
  );
  assert.match(
    listed,
    /\n\s+node's test runner said:\n\s+Error: Test "passes, leaving a rejection behind" at \S*rejects-after-its-test\.test\.ts:\d+:\d+ generated asynchronous activity after the test ended\. This activity created the error "Error: fixture: rejected after its test had ended"/,
    r.stderr,
  );
});

it("a file stopped by the per-file timeout is listed as such, with the test it was running", () => {
  // long enough for the file to load and reach its stuck test on a loaded machine
  const r = runFixture("hangs-in-a-suite", { TEST_TIMEOUT_MS: "20000" });
  assert.equal(r.code, 1, `the runner fails the run\n${r.stdout}\n${r.stderr}`);
  const listed = r.stderr.slice(r.stderr.indexOf("1 failing test:"));
  assert.match(
    listed,
    /✖ scripts\/test-runner\/fixtures\/hangs-in-a-suite\.test\.ts: \(the file's process\) \[testTimeoutFailure\]\n\s+test timed out after 20000ms: its process was stopped by the runner's per-file timeout \(TEST_TIMEOUT_MS\) while running a suite › never ends\n/,
    r.stderr,
  );
  assert.doesNotMatch(listed, /exited with code \?|no failing test in it|passes first/, r.stderr);
});

it("a file whose top-level after hook failed is listed as that hook's failure, not as its process's", () => {
  const r = runFixture("top-level-after-fails");
  assert.equal(r.code, 1, `the runner fails the run\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^ok 1 - passes$/m, "the fixture's test itself passed");
  const listed = r.stderr.slice(r.stderr.indexOf("1 failing test:"));
  assert.match(
    listed,
    /✖ scripts\/test-runner\/fixtures\/top-level-after-fails\.test\.ts: \(the file's hooks\) \[hookFailed\]\n\s+a hook of the file outside any suite \(before, after, beforeEach, afterEach\) failed:\n\s+Error: fixture: the world did not stop\n\s+at .*top-level-after-fails\.test\.ts:\d+:\d+/,
    r.stderr,
  );
  assert.doesNotMatch(listed, /its process|exited with code/, r.stderr);
});

it("a failing test is listed by its name and its error, without its file's stderr", () => {
  const r = runFixture("fails-an-assertion");
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const listed = r.stderr.slice(r.stderr.indexOf("1 failing test:"));
  assert.match(
    listed,
    /✖ scripts\/test-runner\/fixtures\/fails-an-assertion\.test\.ts: fails \[testCodeFailure\]\n\s+AssertionError \[ERR_ASSERTION\]: one and one are not three/,
    r.stderr,
  );
  assert.doesNotMatch(listed, /the file's process|fixture: a line on stderr/, r.stderr);
});
