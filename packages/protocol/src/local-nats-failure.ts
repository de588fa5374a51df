// What a nats-server that did not start said, told once: its log file and its stderr can both hold the
// failure (an unopenable log file is reported on stderr only), and the log file may hold earlier
// starts' lines (a run directory's logs/nats.log is appended to), which are not this start's.

/** Lines of a nats-server log that report a failure ([FTL], [ERR]); stderr lines are all failures. */
const FAILURE = /\[(?:FTL|ERR)\]/;
/** How many of the last lines are shown when none reports a failure (a start that timed out). */
const TAIL_LINES = 10;

/**
 * This start's failure lines from `log` (the log file's text written since the start) and `stderr`,
 * each line once, in order; the last lines when none reads as a failure.
 */
export function startFailureLines(log: string, stderr: string): string[] {
  const logLines = log.split("\n").filter((l) => l.trim() !== "");
  const errLines = stderr.split("\n").filter((l) => l.trim() !== "");
  const failures = [...logLines.filter((l) => FAILURE.test(l)), ...errLines];
  const chosen = failures.length > 0 ? failures : logLines.slice(-TAIL_LINES);
  return [...new Set(chosen.map((l) => l.trimEnd()))];
}
