// Whose folder a run directory is: a run's, which `sfprompt run` may use (and where a start removes
// the earlier run's names), or the user's, which it refuses. Told from what only a run writes
// (ADR 0016 amendments 31, 40, 46, 49).
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { METHODS, shellQuote } from "@sfprompt/api";
import { RunDirError } from "./errors.js";
import { RunMetricsSchema } from "./metrics.js";
import { OWNED, RUN_FILES } from "./run-files.js";
import { LOCK_FILE, lockShowsEarlierRun } from "./run-lock-format.js";

/**
 * Written into every folder a run takes, before a start removes the earlier run's files: the folder
 * is then a run's whatever the user adds to it or removes from it, and after a start that stopped
 * before it wrote metrics.json or nats/ (ADR 0016 amendments 40, 49). Not one of the files a fresh
 * start removes; removed at the run's end when it is all the folder holds (removeLoneMark), so that
 * a release removes a folder it made while empty, and a folder found empty is left so.
 */
export const RUN_FOLDER_MARK = ".sfprompt-run";

/**
 * Files that tools, not the user, leave in a folder meant to be empty: git's placeholder for an
 * empty folder, macOS Finder's view settings and a volume's Spotlight index and trash, Windows
 * Explorer's thumbnail cache and folder settings; and (isPlaceholder) macOS's AppleDouble `._NAME`
 * files, which hold another file's metadata on a disk that keeps none. A folder holding only these is
 * an empty one to the run; they stay (no run file has their names). Compared ignoring case: Windows
 * writes `Desktop.ini` as well.
 */
const PLACEHOLDERS: readonly string[] = [
  ".gitkeep",
  ".ds_store",
  ".spotlight-v100",
  ".trashes",
  "thumbs.db",
  "desktop.ini",
];

function isPlaceholder(name: string): boolean {
  return PLACEHOLDERS.includes(name.toLowerCase()) || name.startsWith("._");
}

/** The run lock and its successor files (run-lock.ts, pid-lock's `.taking-N`): a run's names too. */
function isLockName(name: string): boolean {
  return (
    name === LOCK_FILE ||
    (name.startsWith(`${LOCK_FILE}.taking-`) && /^\d+$/.test(name.slice(LOCK_FILE.length + 8)))
  );
}

/** The names in a folder's listing that are not a run's (its files, partial files, lock, mark) nor placeholders. */
function foreignNames(names: readonly string[]): string[] {
  return names
    .filter((n) => !OWNED.includes(n) && !isLockName(n) && n !== RUN_FOLDER_MARK && !isPlaceholder(n))
    .sort();
}

/** Why `path` is not a run's metrics.json (RunMetricsSchema, the file's contract), or undefined when it is one. */
function metricsProblem(path: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === undefined ? `not JSON: ${(cause as Error).message}` : `cannot be read: ${code}`;
  }
  const parsed = RunMetricsSchema.safeParse(json);
  if (parsed.success) return undefined;
  const issue = parsed.error.issues[0];
  return issue === undefined ? "not a run's format" : `${issue.path.join(".") || "(top)"}: ${issue.message}`;
}

/**
 * Whether `dir/nats` is a run's JetStream store: nats-server keeps it in a `jetstream/` folder. One
 * this user cannot look into counts (an earlier run as another user): hasCheckpoint says so.
 */
function hasNatsStore(dir: string): boolean {
  try {
    return (
      statSync(join(dir, RUN_FILES.nats, "jetstream"), { throwIfNoEntry: false })?.isDirectory() ?? false
    );
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === "EACCES" || code === "EPERM";
  }
}

/**
 * Whether `dir/config` holds a server's and clients' process config of a run (process-config.ts):
 * `<method>.json`, a JSON object with its `runConfig` and `bundleDir`, as every sfprompt wrote it.
 */
function hasRunConfig(dir: string): boolean {
  const configs = join(dir, RUN_FILES.configs);
  return METHODS.some((m) => {
    try {
      const doc = JSON.parse(readFileSync(join(configs, `${m}.json`), "utf8")) as unknown;
      if (typeof doc !== "object" || doc === null) return false;
      const { runConfig, bundleDir } = doc as Record<string, unknown>;
      return typeof runConfig === "object" && runConfig !== null && typeof bundleDir === "string";
    } catch {
      return false; // not there, not readable, not JSON: not a run's
    }
  });
}

/** Something only a run writes: what a refusal calls it, and whether the folder (its `names`) holds it. */
interface Evidence {
  readonly what: string;
  readonly shows: (dir: string, names: readonly string[]) => boolean;
}

/**
 * What shows that a run used a folder (ADR 0016 amendments 40, 49): the one list showsRun asks and
 * the refusals name (EVIDENCE_WORDS), so that the two cannot drift apart.
 */
const EVIDENCE: readonly Evidence[] = [
  { what: `its ${RUN_FOLDER_MARK} mark`, shows: (_, names) => names.includes(RUN_FOLDER_MARK) },
  {
    what: `a run's ${RUN_FILES.metrics}`,
    shows: (dir, names) =>
      names.includes(RUN_FILES.metrics) && metricsProblem(join(dir, RUN_FILES.metrics)) === undefined,
  },
  {
    what: `a ${RUN_FILES.nats}/ JetStream store`,
    shows: (dir, names) => names.includes(RUN_FILES.nats) && hasNatsStore(dir),
  },
  {
    what: `a ${RUN_FILES.configs}/<method>.json process config`,
    shows: (dir, names) => names.includes(RUN_FILES.configs) && hasRunConfig(dir),
  },
  {
    what: `a killed run's ${LOCK_FILE}`,
    shows: (dir, names) => names.includes(LOCK_FILE) && lockShowsEarlierRun(dir),
  },
];

/** EVIDENCE as a refusal names it: `A, B, … or E`. */
const EVIDENCE_WORDS = `${EVIDENCE.slice(0, -1)
  .map((e) => e.what)
  .join(", ")} or ${EVIDENCE.at(-1)?.what ?? ""}`;

/** Whether something in the folder that only a run writes shows that a run used it. */
function showsRun(dir: string, names: readonly string[]): boolean {
  return EVIDENCE.some((e) => e.shows(dir, names));
}

/** Three names at most, then how many more. */
function listed(names: readonly string[]): string {
  return names.slice(0, 3).join(", ") + (names.length > 3 ? ` and ${names.length - 3} more` : "");
}

/**
 * Refuses a folder that is not provably a run's: one holding something other than placeholders
 * (PLACEHOLDERS), the run lock and the mark, when nothing in it that only a run writes shows that a
 * run used it (showsRun). A run would write beside the user's files, and a start that is not a
 * resume removes every entry with a run file's name (config/, logs/, metrics.json, …) whatever it
 * holds, --fresh or not: a lone logs/ or metrics.json of the user's is refused as notes.txt is
 * (ADR 0016 amendments 31, 49). An empty folder, or one that something of EVIDENCE shows to be a
 * run's, is taken; a refusal names EVIDENCE (amendment 57).
 */
export function checkRunFolder(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // not there yet, or unreadable: what follows says so
  }
  const foreign = foreignNames(names);
  const slash = (n: string): string =>
    statSync(join(dir, n), { throwIfNoEntry: false })?.isDirectory() ? `${n}/` : n;
  const ours = names
    .filter((n) => OWNED.includes(n))
    .sort()
    .map(slash);
  if (foreign.length + ours.length === 0 || showsRun(dir, names)) return;
  const problem = names.includes(RUN_FILES.metrics)
    ? metricsProblem(join(dir, RUN_FILES.metrics))
    : undefined;
  const metricsNote = problem === undefined ? "" : ` (its ${RUN_FILES.metrics} is not a run's (${problem}))`;
  const choose = "choose a new or empty folder with --out DIR (or spec.output.path)";
  if (foreign.length > 0) {
    const removed =
      ours.length === 0
        ? ""
        : ` and, starting, remove its own names there (${ours.join(", ")}), whatever they hold (--fresh too)`;
    throw new RunDirError(
      dir,
      `is not an sfprompt run's folder: it holds ${listed(foreign)}, and nothing only a run writes (${EVIDENCE_WORDS})${metricsNote}; ` +
        `a run would write its files beside them${removed}; ${choose}`,
    );
  }
  throw new RunDirError(
    dir,
    `is not an sfprompt run's folder, as far as it shows: it holds ${listed(ours)}, names a run writes too, and nothing only a run writes ` +
      `(${EVIDENCE_WORDS})${metricsNote}; ` +
      `a start would remove them, whatever they hold (--fresh too); if an earlier sfprompt run wrote them, mark the folder as a run's ` +
      `(touch ${shellQuote(join(dir, RUN_FOLDER_MARK))}) and run again, else ${choose}`,
  );
}

/**
 * Removes the mark from a folder that holds nothing else (but placeholders and the lock): a start
 * that stopped before it wrote anything leaves a folder it made for its release to remove, and a
 * folder it found empty, empty.
 */
export function removeLoneMark(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const rest = names.filter((n) => !isLockName(n) && !isPlaceholder(n));
  if (rest.length === 1 && rest[0] === RUN_FOLDER_MARK) rmSync(join(dir, RUN_FOLDER_MARK), { force: true });
}
