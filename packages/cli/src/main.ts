#!/usr/bin/env node
// The `sfprompt` command line.
export {};
