// The protobuf wire level of a file read by positional reads: tags, lengths and field ranges, so that
// a model of any size is walked without being held whole (readModelProtoOutline's reader).
import { fstatSync, readSync } from "node:fs";

/** Why the wire walk stopped: reported as protobufjs's decoding failure is (readModel's message). */
export class WireError extends Error {}

/** A model file read by positional reads through a small window (tags and lengths are a few bytes). */
export class PositionalFile {
  readonly #fd: number;
  readonly size: number;
  readonly #window = Buffer.alloc(1 << 16);
  #start = 0;
  #length = 0;

  constructor(fd: number) {
    this.#fd = fd;
    this.size = fstatSync(fd).size;
  }

  byte(at: number): number {
    if (at < this.#start || at >= this.#start + this.#length) {
      if (at >= this.size) throw new WireError(`truncated at byte ${at}`);
      this.#length = readSync(this.#fd, this.#window, 0, this.#window.length, at);
      this.#start = at;
      if (this.#length === 0) throw new WireError(`truncated at byte ${at}`);
    }
    return this.#window[at - this.#start]!;
  }

  /** A varint at `at` (values past 2^53 lose precision: only tags and lengths are read this way). */
  varint(at: number): { value: number; next: number } {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(at + i);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return { value, next: at + i + 1 };
      scale *= 128;
    }
    throw new WireError(`varint too long at byte ${at}`);
  }

  /** `length` bytes at `at`, read in pieces (one read is limited to 2 GiB). */
  range(at: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = readSync(this.#fd, out, done, Math.min(length - done, 1 << 30), at + done);
      if (n === 0) throw new WireError(`truncated at byte ${at + done}`);
      done += n;
    }
    return out;
  }

  /** How many varints end in [at, end) (a packed repeated field's count), read in 64 KiB pieces. */
  varintCount(at: number, end: number): number {
    const piece = Buffer.alloc(Math.min(1 << 16, Math.max(0, end - at)));
    let count = 0;
    for (let done = at; done < end;) {
      const n = readSync(this.#fd, piece, 0, Math.min(piece.length, end - done), done);
      if (n === 0) throw new WireError(`truncated at byte ${done}`);
      for (let i = 0; i < n; i++) if ((piece[i]! & 0x80) === 0) count++;
      done += n;
    }
    return count;
  }
}

/** One field of a message: its number, and where it starts (its tag), its value starts and it ends. */
export interface WireField {
  readonly field: number;
  readonly wire: number;
  readonly start: number;
  readonly value: number;
  readonly end: number;
}

export function* wireFields(f: PositionalFile, start: number, end: number): Generator<WireField> {
  for (let at = start; at < end;) {
    const tag = f.varint(at);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    let value = tag.next;
    let next: number;
    switch (wire) {
      case 0:
        next = f.varint(value).next;
        break;
      case 1:
        next = value + 8;
        break;
      case 2: {
        const len = f.varint(value);
        value = len.next;
        next = value + len.value;
        break;
      }
      case 5:
        next = value + 4;
        break;
      default:
        throw new WireError(`invalid wire type ${wire} at byte ${at}`);
    }
    if (field === 0 || next > end) throw new WireError(`field ${field} at byte ${at} runs past its message`);
    yield { field, wire, start: at, value, end: next };
    at = next;
  }
}

export function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
