// One process of the fill-once race test: waits for the agreed instant, then fills (or reads) the
// cache folder DIR and prints the outcome as one JSON line.
// Usage: fill-once-process.ts DIR START_MS
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fillOnce } from "../../src/cache/fill-once.js";

const [dir, start] = process.argv.slice(2) as [string, string];
const file = join(dir, "value.txt");
// every process leaves this loop at the same instant, so their folder creations overlap
while (Date.now() < Number(start));
try {
  const value = await fillOnce({
    dir,
    read: () => (existsSync(file) ? readFileSync(file, "utf8") : undefined),
    fill: async (tmp) => {
      writeFileSync(join(tmp, "value.txt"), `filled by ${process.pid}`);
      return `filled by ${process.pid}`;
    },
  });
  process.stdout.write(`${JSON.stringify({ ok: true, value })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error) })}\n`);
}
