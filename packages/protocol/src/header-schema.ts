// zod schemas of what a frame header may say; the binary parser's output is checked against them at
// the boundary, so every field a handler reads has been validated.
import { z } from "zod";
import { REMOTE_ERROR_CODES } from "./errors.js";
import { CODECS, DTYPES, FRAME_KINDS } from "./tensor.js";

export const FRAME_TYPES = ["data", "ack", "error"] as const;
/** data carries tensors; ack confirms a chunk and names where the rest go; error reports a bad frame. */
export type FrameType = (typeof FRAME_TYPES)[number];

export const FRAME_VERSION = 1;
const u32 = z.number().int().min(0).max(0xffffffff);
/** Job/client names in headers: token-safe, or empty in replies to frames whose header was unreadable. */
const headerName = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_-]*$/, "must be letters, digits, '-' or '_'");

export const MetaValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type MetaValue = z.infer<typeof MetaValueSchema>;
/** Small scalar metadata carried in the header (sample counts, losses, reply details). */
export const FrameMetaSchema = z.record(z.string(), MetaValueSchema);
export type FrameMeta = z.infer<typeof FrameMetaSchema>;

export const TensorEntrySchema = z.object({
  // the binary header stores the name's length in one byte: the limit is in bytes of UTF-8
  name: z
    .string()
    .min(1)
    .refine((s) => Buffer.byteLength(s, "utf8") <= 255, "must be at most 255 bytes in UTF-8"),
  dtype: z.enum(DTYPES),
  codec: z.enum(CODECS),
  shape: z.array(u32).max(16),
  byteLength: u32,
});
export type TensorEntry = z.infer<typeof TensorEntrySchema>;

export const FrameHeaderSchema = z
  .object({
    version: z.literal(FRAME_VERSION),
    type: z.enum(FRAME_TYPES),
    kind: z.enum(FRAME_KINDS),
    job: headerName,
    client: headerName,
    round: u32,
    step: u32,
    transfer: u32,
    chunkIndex: u32,
    chunkCount: u32.min(1),
    chunkOffset: u32,
    payloadLength: u32,
    checksum: u32,
    meta: FrameMetaSchema,
    tensors: z.array(TensorEntrySchema).max(4096),
  })
  .refine((h) => h.chunkIndex < h.chunkCount, { path: ["chunkIndex"], message: "must be below chunkCount" })
  .refine((h) => new Set(h.tensors.map((t) => t.name)).size === h.tensors.length, {
    path: ["tensors"],
    message: "tensor names must be unique",
  });
export type FrameHeader = z.infer<typeof FrameHeaderSchema>;

/** What an error frame's meta says. */
export const ErrorReplyMetaSchema = z.object({
  code: z.enum(REMOTE_ERROR_CODES),
  message: z.string(),
  field: z.string().optional(),
});
export type ErrorReplyMeta = z.infer<typeof ErrorReplyMetaSchema>;

/** What an ack frame's meta says: the subject the remaining chunks go to. */
export const AckMetaSchema = z.object({ next: z.string().min(1), received: u32 });
export type AckMeta = z.infer<typeof AckMetaSchema>;
