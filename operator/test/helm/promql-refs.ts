// What a PromQL expression of the dashboard refers to: its metric names, the labels its matchers
// name (per metric) and the labels of its by/without/on/ignoring/group_* clauses. A small lexer for
// the expressions we write, not a PromQL parser: promtool parses them (chart-dashboard.test.ts).

export interface PromqlRefs {
  metrics: string[];
  /** [metric, label] for each label in a `metric{...}` matcher. */
  matcherLabels: [string, string][];
  groupingLabels: string[];
}

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"]);
const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;

export function promqlRefs(expr: string): PromqlRefs {
  let rest = expr.replace(STRING, '""');
  const matcherLabels: [string, string][] = [];
  const unnamed = /(^|[^a-zA-Z0-9_:\s])\s*\{/.exec(rest);
  if (unnamed) throw new Error(`a selector without a metric name in ${expr}`);
  rest = rest.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g, (_all, metric: string, body: string) => {
    for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) matcherLabels.push([metric, m[1]!]);
    return ` ${metric} `;
  });
  rest = rest.replace(/\[[^\]]*\]/g, " ");
  const groupingLabels: string[] = [];
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_all, _kw, list: string) => {
    groupingLabels.push(...list.split(",").map((s) => s.trim()).filter((s) => s !== ""));
    return " ";
  });
  // a whole word (numbers such as 0.95 or 1e3 are not), not a function: no "(" after it
  const metrics = [...rest.matchAll(/(?<![a-zA-Z0-9_:.])[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)]
    .filter((m) => m[1] === undefined)
    .map((m) => m[0])
    .filter((w) => !KEYWORDS.has(w.toLowerCase()));
  return { metrics: [...new Set(metrics)], matcherLabels, groupingLabels: [...new Set(groupingLabels)] };
}

/** Grafana's built-in interval variables, as Grafana would set them for a 6 h range. */
const BUILTIN: Record<string, string> = { __rate_interval: "2m", __interval: "30s", __range: "6h" };

/**
 * The expression as Grafana sends it, with each `$name` / `${name}` replaced by `values[name]` or a
 * built-in interval; an unknown variable throws (the dashboard would send it as written).
 */
export function interpolate(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (all, braced?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const v = values[name] ?? BUILTIN[name];
    if (v === undefined) throw new Error(`${all} in ${expr} is no variable of the dashboard`);
    return v;
  });
}

/** `label_values(selector, label)` of a Grafana query variable, or undefined for other queries. */
export function labelValuesQuery(query: string): { selector: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(query);
  return m ? { selector: m[1]!, label: m[2]! } : undefined;
}
