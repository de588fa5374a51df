// A small Prometheus registry: counters and histograms the operator updates, gauges read at scrape
// time, rendered in the text exposition format for /metrics.

type Labels = Record<string, string>;

const labelText = (l: Labels): string => {
  const parts = Object.entries(l).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
};

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    const v = this.values.get(k) ?? { labels, value: 0 };
    v.value += by;
    this.values.set(k, v);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${v.value}`),
    ];
  }
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.buckets.forEach((b, i) => {
      if (v <= b) this.counts[i]!++;
    });
    this.sum += v;
    this.count++;
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
      ...this.buckets.map((b, i) => `${this.name}_bucket{le="${b}"} ${this.counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    ];
  }
}

/** A gauge whose samples are computed when scraped. */
export interface Gauge {
  name: string;
  help: string;
  read(): { labels?: Labels; value: number }[];
}

export class OperatorMetrics {
  readonly reconciles = new Counter(
    "sfprompt_operator_reconcile_total",
    "Reconciles by result (success, error).",
  );
  readonly reconcileSeconds = new Histogram(
    "sfprompt_operator_reconcile_duration_seconds",
    "Time one reconcile took.",
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  readonly statusWrites = new Counter("sfprompt_operator_status_patches_total", "Status patches written.");
  private readonly gauges: Gauge[] = [];

  addGauge(g: Gauge): void {
    this.gauges.push(g);
  }

  render(): string {
    const gauges = this.gauges.flatMap((g) => [
      `# HELP ${g.name} ${g.help}`,
      `# TYPE ${g.name} gauge`,
      ...g.read().map((s) => `${g.name}${labelText(s.labels ?? {})} ${s.value}`),
    ]);
    return [
      ...this.reconciles.render(),
      ...this.reconcileSeconds.render(),
      ...this.statusWrites.render(),
      ...gauges,
      "",
    ].join("\n");
  }
}
