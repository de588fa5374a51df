// Hand-written SVG line charts of a run (accuracy and bytes per round), drawn by `sfprompt run` into
// its run directory and served by the operator: nice axis ticks, labelled axes, a legend; no
// dependency, so the plots render anywhere an <img> does.

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [x: number, y: number])[];
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Formats a y tick (default: up to 3 significant digits). */
  readonly yFormat?: (v: number) => string;
  /** Force the y range to include these values (e.g. 0 and 1 for accuracy). */
  readonly yInclude?: readonly number[];
  /** "log": x on a base-10 log scale (points with x ≤ 0 are left out), ticks at powers of 10. */
  readonly xScale?: "linear" | "log";
  /** Formats an x tick (default: the number). */
  readonly xFormat?: (v: number) => string;
}

const W = 720;
const H = 420;
const M = { left: 80, right: 170, top: 48, bottom: 60 };
// Dashes tell overlapping series apart (e.g. activation and gradient bytes, which are often equal).
const DASHES = ["", "8 4", "2 4", "12 4 2 4"];
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** About `count` round tick values from ≤ lo to ≥ hi (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

function defaultFormat(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

function range(values: readonly number[], include: readonly number[]): [number, number] {
  const all = [...values, ...include];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) [lo, hi] = lo === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  return [lo, hi];
}

/** Powers of 10 from ≤ lo to ≥ hi (both > 0), for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0 && hi >= lo)) return [1];
  const first = Math.floor(Math.log10(lo) + 1e-9);
  const last = Math.max(first + 1, Math.ceil(Math.log10(hi) - 1e-9));
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(Number((10 ** k).toPrecision(12)));
  return out;
}

interface XAxis {
  readonly ticks: readonly number[];
  /** Position of x in [0, 1] along the axis. */
  readonly at: (x: number) => number;
}

function xAxis(spec: ChartSpec, xs: readonly number[]): XAxis {
  if (spec.xScale === "log") {
    // lineChartSvg has already left out the points a log axis cannot show (x ≤ 0)
    const ticks = logTicks(Math.min(...xs), Math.max(...xs));
    const [l0, l1] = [Math.log10(ticks[0] as number), Math.log10(ticks.at(-1) as number)];
    return { ticks, at: (x) => (Math.log10(x) - l0) / (l1 - l0 || 1) };
  }
  const [x0, x1] = range(xs, []);
  const ticks = niceTicks(x0, x1, Math.min(10, Math.max(1, Math.round(x1 - x0)))).filter(
    (t) => Number.isInteger(t) && t >= x0 && t <= x1,
  );
  return { ticks, at: (x) => (x - x0) / (x1 - x0 || 1) };
}

/** The chart as an SVG document. */
export function lineChartSvg(input: ChartSpec): string {
  // a log axis has no place for x ≤ 0 (e.g. a method that sent no bytes)
  const spec: ChartSpec =
    input.xScale === "log"
      ? { ...input, series: input.series.map((s) => ({ ...s, points: s.points.filter((p) => p[0] > 0) })) }
      : input;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]));
  const yTicks = niceTicks(...range(ys, spec.yInclude ?? []));
  const [y0, y1] = [yTicks[0] as number, yTicks.at(-1) as number];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const axis = xAxis(spec, xs);
  const sx = (x: number): number => M.left + axis.at(x) * pw;
  const sy = (y: number): number => M.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const fmt = spec.yFormat ?? defaultFormat;
  const xFmt = spec.xFormat ?? ((v: number): string => String(v));
  const xTicks = axis.ticks;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left + pw / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e0e0e0"/>`);
    parts.push(
      `<text x="${M.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(fmt(t))}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="black"/>`);
    parts.push(`<text x="${x}" y="${M.top + ph + 20}" text-anchor="middle">${esc(xFmt(t))}</text>`);
  }
  parts.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="black"/>`,
    `<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="black"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 16}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(20 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const dash = DASHES[i % DASHES.length] === "" ? "" : ` stroke-dasharray="${DASHES[i % DASHES.length]}"`;
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    if (pts.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(" ")}"/>`,
      );
    for (const p of pts) {
      const [cx, cy] = p.split(",");
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
    const ly = M.top + 10 + i * 20;
    const lx = M.left + pw + 16;
    parts.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"${dash}/>`,
    );
    parts.push(`<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** Bytes in B / KB / MB / GB (powers of 1000, as traffic is usually quoted). */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))} ${units[u]}`;
}
