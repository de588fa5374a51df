// Test seam, loaded with `node --import` into an `sfprompt run` under test: freezes the process
// (SIGSTOP, which no handler sees) right after it writes a line matching SFPROMPT_TEST_FREEZE_AFTER to
// stderr, so a test can kill it at exactly that point while its server and clients go on. stderr is
// a pipe in the tests, written synchronously on Linux: the line is in the pipe before the stop.
const pattern = process.env["SFPROMPT_TEST_FREEZE_AFTER"];
if (pattern !== undefined && pattern !== "") {
  const freezeAfter = new RegExp(pattern, "m");
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    const written = write(chunk, ...rest);
    if (freezeAfter.test(String(chunk))) process.kill(process.pid, "SIGSTOP");
    return written;
  }) as typeof process.stderr.write;
}
