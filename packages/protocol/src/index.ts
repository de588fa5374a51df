// @sfprompt/protocol: the data plane contract over NATS (subjects, tensor frames and codecs, chunking,
// request/reply, traffic accounting, JetStream events, artifacts and round state, a local nats-server).
export * from "./errors.js";
export * from "./names.js";
export * from "./subjects.js";
export * from "./tensor.js";
export { f32BitsToF16Bits, f32BitsToBf16Bits } from "./half.js";
export { rowsOf, int8ByteLength } from "./int8-rows.js";
export {
  encodedByteLength,
  encodeTensorInto,
  decodeTensorBytes,
  checkFinite,
  checkCodecFits,
  wireCodec,
} from "./codecs.js";
export { crc32 } from "./crc32.js";
export * from "./header-schema.js";
export { encodeHeader, decodeHeader } from "./header-binary.js";
export * from "./frame.js";
export * from "./expect.js";
export * from "./reassembly.js";
export * from "./traffic-ledger.js";
export { idempotencyKey } from "./reply-cache.js";
export { maxPayloadOf } from "./wire.js";
export * from "./observers.js";
export * from "./request-outcome.js";
export * from "./requester.js";
export * from "./responder.js";
export * from "./local-nats.js";
export * from "./events.js";
export * from "./event-dedup.js";
export * from "./attempts.js";
export * from "./event-stream.js";
export * from "./artifacts.js";
export * from "./round-state.js";
export * from "./nats-errors.js";
export * from "./job-resources.js";
export * from "./bucket-owner.js";
