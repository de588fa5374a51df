#!/usr/bin/env node
// The `sfprompt` command line: hands argv to the dispatcher and exits with its code.
import { runCli } from "./cli.js";

// output piped into a program that has exited (`sfprompt ... | head`): the rest has no reader; a
// command that must react (run) listens too. Without a listener the EPIPE would crash the process.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });

process.exitCode = await runCli(process.argv.slice(2));
