// Reads sfprompt_request_duration_seconds out of a /metrics body: the count, sum and +Inf bucket of
// every (op, outcome) series, so tests compare them with the requests they made.
import { samples } from "./harness.js";

const FAMILY = "sfprompt_request_duration_seconds";

export interface RequestSeries {
  count: number;
  sum: number;
  /** The +Inf bucket (must equal count). */
  inf: number;
  /** Cumulative bucket counts by upper bound (`le`, as rendered: "2.5"). */
  buckets: Map<string, number>;
}

/** Series keyed `op/outcome`. */
export function requestSeries(body: string): Map<string, RequestSeries> {
  const out = new Map<string, RequestSeries>();
  const seriesOf = (labels: Record<string, string>): RequestSeries => {
    const key = `${labels.op!}/${labels.outcome!}`;
    const s = out.get(key) ?? { count: 0, sum: 0, inf: 0, buckets: new Map<string, number>() };
    out.set(key, s);
    return s;
  };
  for (const [labels, value] of samples(body, `${FAMILY}_count`)) seriesOf(labels).count = value;
  for (const [labels, value] of samples(body, `${FAMILY}_sum`)) seriesOf(labels).sum = value;
  for (const [labels, value] of samples(body, `${FAMILY}_bucket`)) {
    const s = seriesOf(labels);
    if (labels.le === "+Inf") s.inf = value;
    else s.buckets.set(labels.le!, value);
  }
  return out;
}

/** `op/outcome` → count, for a deepEqual over every series. */
export function requestCounts(body: string): Record<string, number> {
  return Object.fromEntries([...requestSeries(body)].map(([k, s]) => [k, s.count]));
}
