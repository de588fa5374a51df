#!/usr/bin/env node
// Entry point of the server image: `node dist/bin.js [flags]` (flags and env: docs/images.md).
import { main } from "./main.js";

const code = await main(process.argv.slice(2), process.env);
// exit explicitly: native threads (ORT) or a stray timer must not keep a finished pod alive
process.exit(code);
