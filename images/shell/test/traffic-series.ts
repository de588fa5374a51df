// Reads a process's traffic and refusal counters out of a /metrics body, and says what a process
// must have counted when this test was its only peer: the test's own ledger with directions swapped.
import type { TrafficLedger } from "@sfprompt/protocol";
import { samples } from "./harness.js";

/** `kind/direction` → value of every sample of `family` (sfprompt_process_bytes_total, …_messages_total). */
export function trafficSeries(body: string, family: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [labels, value] of samples(body, family)) out[`${labels.kind}/${labels.direction}`] = value;
  return out;
}

/** `reason` → sfprompt_bad_messages_total. */
export function badMessages(body: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [labels, value] of samples(body, "sfprompt_bad_messages_total")) out[labels.reason!] = value;
  return out;
}

/** What the peer of `ledger`'s owner counted: its sent is the peer's received, and back. */
export function peerTotals(ledger: TrafficLedger): {
  bytes: Record<string, number>;
  messages: Record<string, number>;
} {
  const bytes: Record<string, number> = {};
  const messages: Record<string, number> = {};
  for (const e of ledger.snapshot().entries) {
    const key = `${e.kind}/${e.direction === "sent" ? "received" : "sent"}`;
    bytes[key] = (bytes[key] ?? 0) + e.bytes;
    messages[key] = (messages[key] ?? 0) + e.messages;
  }
  return { bytes, messages };
}
