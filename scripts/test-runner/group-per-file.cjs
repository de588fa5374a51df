// Loaded (--require: node 20 runs no --import in the `node --test` process itself) by run-tests.mjs
// into `node --test` and, through its execArgv, into every test file's process. It gives each test
// file a process group of its own, stopped when the file ends:
//  - in the runner: node --test starts each file as `process.execPath <execArgv> <file>`; it is
//    pointed at file-supervisor.sh, which runs the file under file-supervisor.mjs;
//  - in a test file's process (the group's leader): if its supervisor vanishes (SIGKILLed with the
//    runner), nobody is left to clean up after it, so it stops its group and itself.
"use strict";
/* global setInterval, __dirname */

const PARENT_POLL_MS = 500;

/** Polls the parent pid: a changed one means the parent is gone (its orphans were re-parented). */
function onParentGone(stop) {
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(), PARENT_POLL_MS).unref();
}

/** node --test started a test file straight from process.execPath's old value, not the supervisor. */
class SupervisorBypassedError extends Error {
  name = "SupervisorBypassedError";
}

const tag = process.env.SFPROMPT_TEST_FILE_RUN;
const inRunner = process.execArgv.includes("--test") && process.env.NODE_TEST_CONTEXT === undefined;
if (!inRunner && process.env.NODE_TEST_CONTEXT !== undefined && tag === undefined) {
  // a file's process without the tag that the supervisor sets (and all under it inherit): this
  // node's runner no longer spawns process.execPath, so nothing would stop what the file starts
  throw new SupervisorBypassedError(
    `node ${process.version} --test started this test file without scripts/test-runner/file-supervisor.sh: ` +
      "it no longer spawns process.execPath for each file, which group-per-file.cjs relies on " +
      "(ADR 0009 amendment 2); find the new way to wrap each file's process before running tests",
  );
}
if (inRunner) {
  process.env.SFPROMPT_TEST_NODE = process.execPath;
  process.execPath = `${__dirname}/file-supervisor.sh`;
  // the runner killed (even by SIGKILL): stop as on SIGTERM; the supervisors then stop the files
  onParentGone(() => process.kill(process.pid, "SIGTERM"));
} else if (tag !== undefined && tag.startsWith(`${process.ppid}-`)) {
  // this is the file's process: its parent, the supervisor, wrote the tag with its own pid
  onParentGone(() =>
    import("./process-groups.mjs")
      .then(({ signalLeftovers }) => signalLeftovers(process.pid, tag, "SIGKILL"))
      .finally(() => process.kill(-process.pid, "SIGKILL")),
  );
}
