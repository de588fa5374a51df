// Byte counts for people: the printer column shows "12.3 MiB", not 12897484.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

export function humanBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}
