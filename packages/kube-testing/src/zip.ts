// Reading named files out of a ZIP archive held in memory (stored or deflated entries, no ZIP64):
// enough for Go module zips, which are plain ZIP files of a few MB.
import { inflateRawSync } from "node:zlib";
import { ZipFormatError } from "./errors.js";

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
/** The end-of-central-directory record is 22 bytes plus a comment of at most 65535. */
const EOCD_SEARCH = 22 + 0xffff;

function findEndOfCentralDirectory(zip: Buffer): number {
  const stop = Math.max(0, zip.length - EOCD_SEARCH);
  for (let i = zip.length - 22; i >= stop; i--) if (zip.readUInt32LE(i) === EOCD_SIGNATURE) return i;
  throw new ZipFormatError("no end-of-central-directory record: not a ZIP file, or a truncated one");
}

function entryData(
  zip: Buffer,
  name: string,
  method: number,
  size: number,
  compressed: number,
  local: number,
): Buffer {
  if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL_SIGNATURE)
    throw new ZipFormatError(`${name}: its local header is missing`);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const raw = zip.subarray(start, start + compressed);
  if (raw.length !== compressed) throw new ZipFormatError(`${name}: the archive ends inside its data`);
  let out: Buffer;
  if (method === 0) out = raw;
  else if (method === 8) out = inflateRawSync(raw);
  else
    throw new ZipFormatError(
      `${name}: compression method ${method} is not supported (only stored and deflate)`,
    );
  if (out.length !== size)
    throw new ZipFormatError(`${name}: ${out.length} bytes after inflating, the directory says ${size}`);
  return out;
}

/**
 * The contents of the entries named in `names` (full paths inside the archive); an entry missing
 * from the archive is missing from the result. Throws ZipFormatError on a malformed archive.
 */
export function readZipEntries(zip: Buffer, names: readonly string[]): Map<string, Buffer> {
  const wanted = new Set(names);
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  if (at === 0xffffffff || count === 0xffff) throw new ZipFormatError("ZIP64 archives are not supported");
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE)
      throw new ZipFormatError(`central directory entry ${i} is malformed`);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    if (wanted.has(name)) {
      const method = zip.readUInt16LE(at + 10);
      const compressed = zip.readUInt32LE(at + 20);
      const size = zip.readUInt32LE(at + 24);
      out.set(name, entryData(zip, name, method, size, compressed, zip.readUInt32LE(at + 42)));
    }
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}
