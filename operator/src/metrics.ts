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

/** One sample of a gauge family read together with others (e.g. every series of every job). */
export interface NamedSample {
  name: string;
  labels: Labels;
  value: number;
}

/**
 * Several gauges computed in one read at scrape time: `read` builds all their samples at once (one
 * pass over the jobs instead of one per gauge); render groups them by name, as the text format needs.
 */
export interface GaugeFamilies {
  families: readonly { name: string; help: string }[];
  read(): NamedSample[];
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
  private readonly gauges: (Gauge | GaugeFamilies)[] = [];

  addGauge(g: Gauge): void {
    this.gauges.push(g);
  }

  addGaugeFamilies(f: GaugeFamilies): void {
    this.gauges.push(f);
  }

  render(): string {
    const gauges = this.gauges.flatMap((g) => ("families" in g ? renderFamilies(g) : renderGauge(g)));
    return [
      ...this.reconciles.render(),
      ...this.reconcileSeconds.render(),
      ...this.statusWrites.render(),
      ...gauges,
      "",
    ].join("\n");
  }
}

function gaugeLines(name: string, help: string, samples: { labels?: Labels; value: number }[]): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...samples.map((s) => `${name}${labelText(s.labels ?? {})} ${s.value}`),
  ];
}

const renderGauge = (g: Gauge): string[] => gaugeLines(g.name, g.help, g.read());

function renderFamilies(f: GaugeFamilies): string[] {
  const byName = new Map<string, NamedSample[]>();
  for (const s of f.read()) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  return f.families.flatMap((fam) => gaugeLines(fam.name, fam.help, byName.get(fam.name) ?? []));
}
