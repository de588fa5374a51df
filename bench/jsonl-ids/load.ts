// One load of a JSONL file of token ids, in a process of its own: prints the peak RSS it added
// (maxRSS after minus before) and the bytes of the ids it kept, as one JSON line.
import { loadJsonlTokens } from "@sfprompt/core";

const [path, seqLen, dtype] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
if (path === undefined || !(seqLen > 0) || (dtype !== "int32" && dtype !== "int64"))
  throw new Error("usage: load.ts <file.jsonl> <seqLen> int32|int64");
const before = process.resourceUsage().maxRSS * 1024;
const ds = await loadJsonlTokens(path, { seqLen, dtype });
const peakAdded = process.resourceUsage().maxRSS * 1024 - before;
console.log(JSON.stringify({ dtype, idsBytes: ds.x.byteLength, peakAdded }));
