// The largest image the readers decode. A header is read before the pixels are: a corrupt or hostile
// one (a PNG or PGM claiming 60000×60000) would otherwise size a buffer of gigabytes first.

/** Pillow's decompression-bomb limit (Image.MAX_IMAGE_PIXELS × 2, where it raises instead of warning). */
export const MAX_IMAGE_PIXELS = 178_956_970;

/** Why an image of `width` × `height` is refused, or undefined when it may be decoded. */
export function tooManyPixels(width: number, height: number): string | undefined {
  const pixels = width * height;
  if (pixels <= MAX_IMAGE_PIXELS) return undefined;
  return `header says ${width}×${height} (${pixels} pixels), above the ${MAX_IMAGE_PIXELS} an image may have; is the file corrupt? (scale it down if not)`;
}
