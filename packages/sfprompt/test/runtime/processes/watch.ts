// A program that watches a job's progress events and then closes its NATS connection, for the
// watch-events tests: it prints what it saw as one JSON line and must then exit on its own.
// Usage: watch.ts NATS_URL JOB MODE [STOP_AFTER]
//   break       leave the for-await after STOP_AFTER events
//   finished    read until job.finished (untilFinished), then close
//   abort       abort the signal after STOP_AFTER events (or after 300 ms with none)
//   close       close the connection after 300 ms while the watcher waits for an event
//   suspended   pull STOP_AFTER events by hand, then close without returning the iterator
//   pre-abort   start with an aborted signal
import { connect } from "@nats-io/transport-node";
import { watchEvents } from "../../../src/runtime/watch-events.js";

const [url, job, mode, after] = process.argv.slice(2);
const stopAfter = Number(after ?? "1");
const nc = await connect({ servers: url! });
const abort = new AbortController();
if (mode === "pre-abort") abort.abort();
if (mode === "close") setTimeout(() => void nc.close(), 300);
if (mode === "abort" && stopAfter === 0) setTimeout(() => abort.abort(), 300);
const seen: string[] = [];
const events = watchEvents(nc, job!, { signal: abort.signal, untilFinished: mode === "finished" });
if (mode === "suspended") {
  for (let i = 0; i < stopAfter; i++) {
    const r = await events.next();
    if (r.done !== true) seen.push(r.value.type);
  }
} else {
  for await (const e of events) {
    seen.push(e.type);
    if (seen.length < stopAfter) continue;
    if (mode === "break") break;
    if (mode === "abort") abort.abort();
  }
}
if (!nc.isClosed()) await nc.close();
process.stdout.write(`${JSON.stringify({ seen })}\n`);
