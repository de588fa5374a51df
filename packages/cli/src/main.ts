#!/usr/bin/env node
// The `sfprompt` command line: hands argv to the dispatcher and exits with its code.
import { runCli } from "./cli.js";
import { isOutputGone } from "./output-gone.js";

// output piped into a program that has exited (`sfprompt ... | head`), or a terminal that hung up:
// the rest has no reader; a command that must react (run) listens too. Without a listener the EPIPE
// or EIO would crash the process (for run: before it stopped its server and clients).
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (!isOutputGone(error)) throw error;
  });

process.exitCode = await runCli(process.argv.slice(2));
