// Reads sfprompt_request_duration_seconds out of a /metrics body: the count, sum and +Inf bucket of
// every (op, outcome) series, so tests compare them with the requests they made.
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
  const re = new RegExp(
    `^${FAMILY}_(count|sum|bucket)\\{op="([^"]+)",outcome="([^"]+)"(?:,le="([^"]+)")?\\} (\\S+)$`,
  );
  for (const line of body.split("\n")) {
    const m = re.exec(line);
    if (m === null) continue;
    const [, part, op, outcome, le, value] = m;
    const key = `${op!}/${outcome!}`;
    const s = out.get(key) ?? { count: 0, sum: 0, inf: 0, buckets: new Map<string, number>() };
    if (part === "count") s.count = Number(value);
    else if (part === "sum") s.sum = Number(value);
    else if (le === "+Inf") s.inf = Number(value);
    else s.buckets.set(le!, Number(value));
    out.set(key, s);
  }
  return out;
}

/** `op/outcome` → count, for a deepEqual over every series. */
export function requestCounts(body: string): Record<string, number> {
  return Object.fromEntries([...requestSeries(body)].map(([k, s]) => [k, s.count]));
}
