// The project's one zip reader (APPNOTE 6.3: end of central directory, central directory, local
// headers): files out of Python wheels without Python, and out of Go module zips for kube-testing
// (through the @sfprompt/core/zip subpath). Stored and deflated entries, sizes and CRC-32 from the
// central directory (so entries with data descriptors read too) and checked. No zip64, no encryption
// (neither a wheel of the MiniLM kind nor a Go module zip needs them); both are refused by name.
import { readFileSync, writeFileSync } from "node:fs";
import { crc32, inflateRawSync } from "node:zlib";
import { ZipFormatError } from "./errors.js";

// the error type travels with the reader, for callers that import only this module (@sfprompt/core/zip)
export { ZipFormatError };

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const STORED = 0;
const DEFLATED = 8;

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's local header. */
  readonly localOffset: number;
}

function findEndOfCentralDirectory(buf: Buffer, file: string): number {
  const lowest = Math.max(0, buf.length - EOCD_MIN - 0xffff);
  for (let at = buf.length - EOCD_MIN; at >= lowest; at--) if (buf.readUInt32LE(at) === EOCD_SIG) return at;
  throw new ZipFormatError(
    file,
    undefined,
    `no end-of-central-directory record (${buf.length} bytes): not a zip file, or cut short; download it again`,
  );
}

/** The entries of the zip in `buf` (the bytes of `file`, named in errors), in central-directory order. */
export function listZipEntries(buf: Buffer, file: string): ZipEntry[] {
  if (buf.length < EOCD_MIN)
    throw new ZipFormatError(file, undefined, `${buf.length} bytes is too short for a zip file`);
  const eocd = findEndOfCentralDirectory(buf, file);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)
    throw new ZipFormatError(file, undefined, "is a zip64 archive, which this reader does not read");
  if (cdOffset + cdSize > eocd)
    throw new ZipFormatError(
      file,
      undefined,
      `central directory (${cdOffset}+${cdSize}) runs past its end record at ${eocd}`,
    );
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || buf.readUInt32LE(at) !== CENTRAL_SIG)
      throw new ZipFormatError(file, undefined, `central directory entry ${i} at ${at} has no signature`);
    const flags = buf.readUInt16LE(at + 8);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const name = buf.toString("utf8", at + 46, at + 46 + nameLen);
    if ((flags & 1) !== 0) throw new ZipFormatError(file, name, "is encrypted");
    entries.push({
      name,
      method: buf.readUInt16LE(at + 10),
      crc32: buf.readUInt32LE(at + 16),
      compressedSize: buf.readUInt32LE(at + 20),
      size: buf.readUInt32LE(at + 24),
      localOffset: buf.readUInt32LE(at + 42),
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The content of `entry`, inflated when deflated, its size and CRC-32 checked. */
export function readZipEntry(buf: Buffer, file: string, entry: ZipEntry): Buffer {
  const at = entry.localOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL_SIG)
    throw new ZipFormatError(file, entry.name, `no local header at ${at}`);
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > buf.length)
    throw new ZipFormatError(
      file,
      entry.name,
      `its ${entry.compressedSize} bytes run past the end of the file`,
    );
  const raw = buf.subarray(start, end);
  let data: Buffer;
  if (entry.method === STORED) data = raw;
  else if (entry.method === DEFLATED) {
    try {
      data = inflateRawSync(raw);
    } catch (cause) {
      throw new ZipFormatError(file, entry.name, `does not inflate: ${String(cause)}`, { cause });
    }
  } else
    throw new ZipFormatError(
      file,
      entry.name,
      `uses compression method ${entry.method} (only 0 stored and 8 deflated are read)`,
    );
  if (data.length !== entry.size)
    throw new ZipFormatError(file, entry.name, `is ${data.length} bytes, the directory says ${entry.size}`);
  const crc = crc32(data);
  if (crc !== entry.crc32)
    throw new ZipFormatError(
      file,
      entry.name,
      `CRC-32 ${crc.toString(16).padStart(8, "0")} is not the recorded ${entry.crc32.toString(16).padStart(8, "0")}: the archive is damaged`,
    );
  return data;
}

/** Writes each wanted entry (name in the archive → destination path) of the zip `file`. */
export function extractZipEntries(file: string, wanted: Readonly<Record<string, string>>): void {
  const buf = readFileSync(file);
  const byName = new Map(listZipEntries(buf, file).map((e) => [e.name, e]));
  for (const [name, dest] of Object.entries(wanted)) {
    const entry = byName.get(name);
    if (entry === undefined) {
      const held = byName.size === 1 ? "1 entry" : `${byName.size} entries`;
      throw new ZipFormatError(file, name, `is not in the archive (it holds ${held})`);
    }
    writeFileSync(dest, readZipEntry(buf, file, entry));
  }
}
