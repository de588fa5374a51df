// A minimal Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with
// labels, and collectors that refresh values at scrape time. Enough for one process's /metrics.

export type Labels = Readonly<Record<string, string>>;
type MetricType = "counter" | "gauge" | "histogram";

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  lines(): string[];
}

const keyOf = (labels: Labels): string =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

function renderLabels(labels: Labels, extra: Labels = {}): string {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`,
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function renderValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** A value per label set: the shape of counters and gauges. */
class Series implements Family {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  protected update(labels: Labels, f: (old: number) => number): void {
    const k = keyOf(labels);
    const e = this.#values.get(k);
    if (e === undefined) this.#values.set(k, { labels: { ...labels }, value: f(0) });
    else e.value = f(e.value);
  }

  get(labels: Labels = {}): number | undefined {
    return this.#values.get(keyOf(labels))?.value;
  }

  lines(): string[] {
    return [...this.#values.values()].map(
      (e) => `${this.name}${renderLabels(e.labels)} ${renderValue(e.value)}`,
    );
  }
}

export class Counter extends Series {
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new RangeError(`${this.name}: a counter only goes up (got ${by})`);
    this.update(labels, (v) => v + by);
  }
  /** Sets a counter kept elsewhere (a ledger's running total), at scrape time. */
  setTotal(labels: Labels, total: number): void {
    this.update(labels, () => total);
  }
}

export class Gauge extends Series {
  constructor(name: string, help: string) {
    super(name, help, "gauge");
  }
  set(labels: Labels, value: number): void {
    this.update(labels, () => value);
  }
}

export class Histogram implements Family {
  readonly type = "histogram";
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const k = keyOf(labels);
    let s = this.#series.get(k);
    if (s === undefined) {
      s = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const s of this.#series.values()) {
      this.buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket${renderLabels(s.labels, { le: renderValue(b) })} ${s.counts[i]}`),
      );
      out.push(`${this.name}_bucket${renderLabels(s.labels, { le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${renderLabels(s.labels)} ${renderValue(s.sum)}`);
      out.push(`${this.name}_count${renderLabels(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  readonly #families: Family[] = [];
  readonly #collectors: (() => void)[] = [];

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** Runs `collect` before every render (to copy values kept elsewhere). */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /** The exposition text; families with no samples still show HELP and TYPE. */
  render(): string {
    for (const c of this.#collectors) c();
    const out: string[] = [];
    for (const f of this.#families) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines());
    }
    return `${out.join("\n")}\n`;
  }

  #add<F extends Family>(family: F): F {
    if (this.#families.some((f) => f.name === family.name))
      throw new Error(`metric ${family.name} registered twice`);
    this.#families.push(family);
    return family;
  }
}

/** Content-Type of the exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
