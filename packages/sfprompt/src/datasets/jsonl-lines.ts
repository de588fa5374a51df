// The lines of a JSON Lines text or file, parsed one at a time. A file is read as a stream, so its
// size is not bound by V8's longest string (about 512 MiB), only each line is.
import buffer from "node:buffer";
import { createReadStream } from "node:fs";
import { DatasetFormatError, DatasetNotFoundError } from "./errors.js";

/** One non-blank line: its 1-based number and its JSON object. */
export interface JsonlLine {
  readonly number: number;
  readonly record: Record<string, unknown>;
}

// A byte order mark (what Windows tools write first) is no part of the first line's JSON.
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseLine(text: string, number: number, source: string): JsonlLine | undefined {
  const line = text.endsWith("\r") ? text.slice(0, -1) : text;
  if (line.trim() === "") return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (cause) {
    throw new DatasetFormatError(`${source}:${number}`, `is not valid JSON (${(cause as Error).message})`, {
      cause,
    });
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new DatasetFormatError(
      `${source}:${number}`,
      `must be a JSON object like {"x": [...], "label": ...}`,
    );
  }
  return { number, record: record as Record<string, unknown> };
}

/** Calls `add` with every non-blank line of `text`, in order. */
export function eachTextLine(text: string, source: string, add: (line: JsonlLine) => void): void {
  withoutBom(text)
    .split("\n")
    .forEach((t, i) => {
      const line = parseLine(t, i + 1, source);
      if (line !== undefined) add(line);
    });
}

/**
 * Calls `add` with every non-blank line of the file at `path`, in order, reading it in chunks.
 * `maxLineChars` bounds one line (V8's longest string by default; tests set it small).
 */
export async function eachFileLine(
  path: string,
  add: (line: JsonlLine) => void,
  maxLineChars: number = buffer.constants.MAX_STRING_LENGTH,
): Promise<void> {
  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<string>;
  let pending: string[] = [];
  let pendingChars = 0;
  let number = 0;
  const take = (text: string): void => {
    number += 1;
    const line = parseLine(number === 1 ? withoutBom(text) : text, number, path);
    if (line !== undefined) add(line);
  };
  // checked before a line is joined: one longer than a string can be would fail as a bare RangeError
  const checkLength = (chars: number): void => {
    if (chars <= maxLineChars) return;
    throw new DatasetFormatError(
      `${path}:${number + 1}`,
      `is longer than ${maxLineChars} characters, the longest line this reader takes; put one sample per line`,
    );
  };
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (cause) {
        throw notReadable(path, cause);
      }
      if (next.done === true) break;
      const chunk = next.value;
      let start = 0;
      for (let nl = chunk.indexOf("\n"); nl >= 0; nl = chunk.indexOf("\n", start)) {
        checkLength(pendingChars + nl - start);
        pending.push(chunk.slice(start, nl));
        take(pending.join(""));
        pending = [];
        pendingChars = 0;
        start = nl + 1;
      }
      checkLength(pendingChars + chunk.length - start);
      pending.push(chunk.slice(start));
      pendingChars += chunk.length - start;
    }
    if (pendingChars > 0) take(pending.join(""));
  } finally {
    stream.destroy();
  }
}

function notReadable(path: string, cause: unknown): DatasetNotFoundError {
  return new DatasetNotFoundError(path, "JSONL file is not readable; check the path", { cause });
}

const [NEWLINE, SPACE, TAB, CR] = [10, 32, 9, 13];

/**
 * How many non-blank lines the file at `path` has: the samples a reader will take from it (a line
 * that is not one fails the read), counted over its bytes before they are parsed, so that the
 * readers allocate their arrays once at the size they end with (no growth, no trimmed copy).
 */
export async function countFileLines(path: string): Promise<number> {
  let lines = 0;
  let blank = true;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      const bytes = chunk as Buffer;
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i];
        if (b === NEWLINE) {
          if (!blank) lines++;
          blank = true;
        } else if (b !== SPACE && b !== TAB && b !== CR) blank = false;
      }
    }
  } catch (cause) {
    throw notReadable(path, cause);
  }
  return blank ? lines : lines + 1;
}
