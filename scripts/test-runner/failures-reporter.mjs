// A node:test reporter that prints, once the run has ended, every test that failed: its file, the
// names of its suites, and the first lines of its error. The TAP report goes to stdout as before; CI
// shows only the end of a long run's output, where a failure from minute 3 would otherwise be lost
// among 2,000 passing tests. Suites that failed only because a test in them did, and tests cancelled
// because their suite's hook failed, are counted but not listed (the failing test or hook is). A file
// whose process failed with no failing test in it (it exited non-zero after its tests passed: an
// after hook, work left running, a crash) is listed with its exit code or signal, the last lines it
// wrote to stderr, which the TAP report printed as diagnostics long before the end, and node's own
// diagnostic when work a test left behind threw or rejected after the test ended (node:test then
// sets exit code 1 and says why only in that diagnostic, which names no file in its event). A file
// stopped by the per-file timeout (TEST_TIMEOUT_MS) is listed as such, with the test it was running
// then: node reports no end for that test, only the file's testTimeoutFailure, with no exit code. A
// hook outside any suite that failed (the file's own entry fails with hookFailed) is listed with its
// error, as a failing test is.
import { relative } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const maxLines = 8;
/** How many of a file's last stderr lines are kept, for a file that failed outside its tests. */
const stderrLines = 30;
/** node:test's diagnostic for an error thrown or rejected by work a test or hook left running. */
const lateActivity = /generated asynchronous activity after the test ended/;

function errorText(error) {
  const err = error?.cause ?? error;
  const text = err?.stack ?? err?.message ?? String(err);
  // node's own frames (the test runner's) say nothing about the failure.
  const lines = String(text)
    .split("\n")
    .filter((line) => !/\(node:|^\s*at node:/.test(line));
  return lines.slice(0, maxLines).join("\n") + (lines.length > maxLines ? "\n…" : "");
}

/** Removes from `late` and returns the diagnostics that name `file` (relative or absolute). */
function takeLate(late, file, absolute) {
  const mine = late.filter((m) => m.includes(` at ${file}:`) || (absolute && m.includes(absolute)));
  for (const m of mine) late.splice(late.indexOf(m), 1);
  return mine;
}

/**
 * How a file's process ended, for its entry in the list: stopped by the per-file timeout while running
 * `open` (the tests it had started and not ended; node reports no end for them), or its exit code or
 * signal with no failing test in it.
 */
function processEnd(error, type, open, self) {
  if (type === "testTimeoutFailure") {
    const names = (open ?? []).filter((n) => n !== undefined && n !== self);
    return (
      "was stopped by the runner's per-file timeout (TEST_TIMEOUT_MS) " +
      (names.length > 0 ? `while running ${names.join(" › ")}` : "before any of its tests started")
    );
  }
  const how =
    error?.signal != null ? `killed by ${error.signal}` : `exited with code ${error?.exitCode ?? "?"}`;
  return `${how} with no failing test in it`;
}

export default async function* failuresReporter(source) {
  const paths = new Map(); // file → names of the tests open at each nesting level
  const failures = [];
  const stderr = new Map(); // file → its last lines on stderr
  const late = []; // node's late-activity diagnostics; each names its test's file in its text
  const running = new Map(); // file → names of the tests started and not yet ended, by nesting level
  let consequential = 0;
  for await (const event of source) {
    const data = event.data ?? {};
    const file = data.file ? relative(root, data.file) : "(unknown file)";
    if (event.type === "test:diagnostic" && lateActivity.test(String(data.message))) {
      late.push(String(data.message));
    } else if (event.type === "test:stderr") {
      const lines = stderr.get(file) ?? [];
      lines.push(...String(data.message).replace(/\n$/, "").split("\n"));
      stderr.set(file, lines.slice(-stderrLines));
    } else if (event.type === "test:dequeue") {
      const names = running.get(file) ?? [];
      names.length = Number.isInteger(data.nesting) ? data.nesting : 0;
      names.push(data.name);
      running.set(file, names);
    } else if (event.type === "test:complete" && !(data.nesting === 0 && data.name === data.file)) {
      // the file's own entry ends before its test:fail, which still needs what was running
      const names = running.get(file);
      if (names && Number.isInteger(data.nesting)) names.length = Math.min(names.length, data.nesting);
    } else if (event.type === "test:start") {
      const path = paths.get(file) ?? [];
      path.length = data.nesting;
      path.push(data.name);
      paths.set(file, path);
    } else if (event.type === "test:fail") {
      const type = data.details?.error?.failureType;
      if (type === "subtestsFailed" || type === "cancelledByParent") {
        consequential++;
        continue;
      }
      const error = data.details?.error;
      const own = data.nesting === 0 && data.file !== undefined && data.name === data.file;
      // the file's own entry failed by a hook outside any suite (an after that stops the test's world):
      // its error says what, as a failing test's does; the process did not fail
      if (own && type === "hookFailed") {
        const text = `a hook of the file outside any suite (before, after, beforeEach, afterEach) failed:\n${errorText(error)}`;
        failures.push({ file, name: "(the file's hooks)", type, text });
        continue;
      }
      // the file's own entry (named by its path): its process failed, not one of its tests
      if (own) {
        const tail = stderr.get(file) ?? [];
        const said = takeLate(late, file, data.file);
        failures.push({
          file,
          name: "(the file's process)",
          type,
          text:
            `${errorText(error)}: its process ${processEnd(error, type, running.get(file), data.file)}\n` +
            (said.length === 0 ? "" : `node's test runner said:\n${said.join("\n")}\n`) +
            (tail.length === 0
              ? "it wrote nothing to stderr"
              : `the last ${tail.length === 1 ? "line" : `${tail.length} lines`} it wrote to stderr:\n${tail.join("\n")}`),
        });
        continue;
      }
      const path = (paths.get(file) ?? []).slice(0, data.nesting);
      failures.push({ file, name: [...path, data.name].join(" › "), type, text: errorText(error) });
    }
  }
  if (failures.length === 0) return;
  yield (
    `\n${failures.length} failing test${failures.length === 1 ? "" : "s"}` +
    (consequential > 0 ? ` (and ${consequential} suites or tests failed or cancelled because of them)` : "") +
    ":\n"
  );
  for (const f of failures) {
    yield `\n✖ ${f.file}: ${f.name}${f.type ? ` [${f.type}]` : ""}\n${f.text.replace(/^/gm, "    ")}\n`;
  }
  // any whose file this could not tell: said rather than lost
  if (late.length > 0) yield `\nnode's test runner also said:\n${late.join("\n").replace(/^/gm, "    ")}\n`;
}
