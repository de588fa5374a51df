// sfprompt validate's model check and sfprompt traffic's shapes read the model's outline, not its
// weights (ADR 0016 amendment 47, ADR 0020 amendment): peak RSS and time of each read before and after,
// each in a fresh process (measure.ts modes check-*, traffic-*), on the cached MiniLM model; and the
// whole `sfprompt validate` / `sfprompt traffic` processes on examples/minilm-job.yaml as they are now
// (peak RSS from process.resourceUsage().maxRSS at exit).
//   node --conditions=source --import tsx bench/model-outline/cli.ts --minilm PATH [--out bench/results/model-outline-cli.md]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
};
const out = flag("--out", "bench/results/model-outline-cli.md");
const minilm = flag("--minilm", "");
if (minilm === "")
  throw new Error("--minilm PATH: the cached MiniLM model.onnx (~/.cache/sfprompt/minilm/…)");
const JOB = "examples/minilm-job.yaml";
const modes = ["check-before", "check-after", "traffic-before", "traffic-after"];
const rows: string[] = [];
const size = (statSync(minilm).size / 2 ** 20).toFixed(0);

for (const mode of modes) {
  const line = execFileSync(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      "bench/model-outline/measure.ts",
      mode,
      minilm,
      '{"sequence":24}',
    ],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  ).trim();
  const r = JSON.parse(line.split("\n").at(-1)!) as {
    ok: boolean;
    result?: unknown;
    error?: string;
    ms: number;
    peakRssMiB: number;
  };
  const what = r.ok ? JSON.stringify(r.result) : `**failed**: ${r.error}`;
  rows.push(`| MiniLM (${size} MiB) | ${mode} | ${what} | ${r.ms} | ${r.peakRssMiB} |`);
  console.log(rows.at(-1));
}

const dir = mkdtempSync(join(tmpdir(), "model-outline-cli-"));
try {
  const hook = join(dir, "max-rss.mjs");
  writeFileSync(
    hook,
    'import { writeFileSync } from "node:fs";\n' +
      "process.on('exit', () => writeFileSync(process.env.RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const commands: Array<[string, string[]]> = [
    ["sfprompt validate", ["validate", JOB]],
    ["sfprompt traffic", ["traffic", JOB, "--samples-per-client", "100"]],
  ];
  for (const [name, argv] of commands) {
    const file = join(dir, name.replace(" ", "-"));
    const t0 = performance.now();
    execFileSync(
      process.execPath,
      ["--import", hook, "--conditions=source", "--import", "tsx", "packages/cli/src/main.ts", ...argv],
      { encoding: "utf8", env: { ...process.env, RSS_FILE: file }, stdio: ["ignore", "ignore", "inherit"] },
    );
    const ms = Math.round(performance.now() - t0);
    const peak = Math.round(Number(readFileSync(file, "utf8")) / 1024);
    const command = [name, ...argv.slice(2)].join(" ");
    rows.push(`| ${JOB} | ${command} (whole process, now) | exit 0 | ${ms} | ${peak} |`);
    console.log(rows.at(-1));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
writeFileSync(
  out,
  `# sfprompt validate and sfprompt traffic without the model's weights

Recorded ${new Date().toISOString()} with \`node --conditions=source --import tsx bench/model-outline/cli.ts ${args.join(" ")}\` (commit ${commit}).

- Machine: ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, shared with other work (times are indicative); each row is a fresh process; peak RSS includes node and the loaded modules (VmHWM for the measure.ts rows, maxRSS for the whole processes).
- check-before / check-after: the model check of sfprompt validate and sfprompt run (model-check.ts) before 5bb7a0d (readModel) and now (readModelOutline with checkExternalData); the result is the model's data inputs, which must agree.
- traffic-before / traffic-after: sfprompt traffic's shapes of examples/minilm-job.yaml's split (head blocks 1, prompt 10, 10 classes, mean pooling, 24 tokens) over readModel (before b49c495) and over shapesOnlyModel (now); the result is a_h's per-sample shape and the prompt + tail and whole-model weight counts, which must agree.
- The whole-process rows are the commands now, the MiniLM model already cached (validate reads the data's labels too; traffic with --samples-per-client reads no data).

| model | mode | result | ms | peak RSS MiB |
| --- | --- | --- | ---: | ---: |
${rows.join("\n")}
`,
);
console.log(`wrote ${out}`);
