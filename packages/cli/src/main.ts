#!/usr/bin/env node
// The `sfprompt` command line: hands argv to the dispatcher and exits with its code.
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2));
