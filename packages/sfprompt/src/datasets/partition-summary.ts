// Per-client class histograms of a partition, for logs, status and docs.

import { DatasetArgumentError } from "./errors.js";

export interface ClientSummary {
  readonly client: number;
  readonly size: number;
  /** Samples of each class, indexed by label. */
  readonly histogram: readonly number[];
  /** Shannon entropy of the client's label distribution, in bits (log2 C for a uniform mix). */
  readonly entropy: number;
  /** Classes with at least one sample. */
  readonly classesPresent: number;
}

export interface PartitionSummary {
  readonly classNames: readonly string[];
  readonly clients: readonly ClientSummary[];
  readonly total: number;
  readonly minSize: number;
  readonly maxSize: number;
  /** Mean of the clients' label entropies: lower means more label skew. */
  readonly meanEntropy: number;
}

/** Shannon entropy in bits of a histogram. */
export function labelEntropy(histogram: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < histogram.length; i++) total += histogram[i] as number;
  let h = 0;
  for (let i = 0; i < histogram.length; i++) {
    const p = (histogram[i] as number) / total;
    if (p > 0) h -= p * Math.log2(p);
  }
  return h;
}

/** Class histogram and entropy of every client's shard. */
export function summarizePartition(
  labels: Int32Array,
  parts: readonly Int32Array[],
  classNames: readonly string[],
): PartitionSummary {
  const clients = parts.map((idx, client): ClientSummary => {
    const histogram = new Array<number>(classNames.length).fill(0);
    for (const i of idx) {
      const y = labels[i];
      if (y === undefined)
        throw new DatasetArgumentError(
          `parts[${client}]`,
          `index ${i} is outside the ${labels.length} labels`,
        );
      histogram[y] = (histogram[y] as number) + 1;
    }
    return {
      client,
      size: idx.length,
      histogram,
      entropy: labelEntropy(histogram),
      classesPresent: histogram.filter((c) => c > 0).length,
    };
  });
  const sizes = clients.map((c) => c.size);
  return {
    classNames,
    clients,
    total: sizes.reduce((a, b) => a + b, 0),
    minSize: Math.min(...sizes),
    maxSize: Math.max(...sizes),
    meanEntropy: clients.reduce((a, c) => a + c.entropy, 0) / Math.max(1, clients.length),
  };
}

/** A plain-text table: one row per client, one column per class, then size and entropy. */
export function formatPartitionSummary(summary: PartitionSummary): string {
  const head = ["client", ...summary.classNames.map((_, i) => `c${i}`), "size", "H(bits)"];
  const rows = summary.clients.map((c) => [
    String(c.client),
    ...c.histogram.map(String),
    String(c.size),
    c.entropy.toFixed(2),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((cell, j) => cell.padStart(widths[j] as number)).join("  ");
  const legend = summary.classNames.map((name, i) => `c${i}=${name}`).join(", ");
  return [
    line(head),
    ...rows.map(line),
    `classes: ${legend}; mean entropy ${summary.meanEntropy.toFixed(3)} bits`,
  ].join("\n");
}
