// Heap growth over many calls of an async operation, for tests that something long-lived (a client's
// signal, a connection's reconnect epoch) keeps nothing per call: the heap after full collections
// (`gc` exposed for this process) before and after each run of calls.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Calls in flight at once: what a call leaves behind adds up the same however the calls overlap. */
const CONCURRENCY = 8;

/** The heap in use after full collections. */
async function settledHeap(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().heapUsed;
}

/** `count` calls of `send`, CONCURRENCY at a time. */
async function callMany(send: () => Promise<unknown>, count: number): Promise<void> {
  let left = count;
  const worker = async (): Promise<void> => {
    while (left-- > 0) await send();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/**
 * Heap growth over two runs of 20 000 calls of `send`, after 2 000 to warm up (code, caches, the
 * connection's buffers). The calls go CONCURRENCY at a time: the same count as one at a time, in about
 * a third of the time over NATS.
 */
export async function heapGrowth(send: () => Promise<unknown>): Promise<number[]> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  await callMany(send, 2_000);
  const growth: number[] = [];
  for (let run = 0; run < 2; run++) {
    const before = await settledHeap(gc);
    await callMany(send, 20_000);
    growth.push((await settledHeap(gc)) - before);
  }
  return growth;
}
