/** UTF-8 helpers with SentencePiece's exact rules (util.h), working on byte arrays. */

const LEAD_LEN = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];

/** Length of the character starting with byte `b`, judged from the lead byte only (OneCharLen). */
export function oneCharLen(b: number): number {
  return LEAD_LEN[b >> 4];
}

const isTrail = (b: number): boolean => (b & 0xc0) === 0x80;
const isValidCodepoint = (c: number): boolean => c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);

/**
 * Byte length of the well-formed character at `i`, or 0 when it is malformed
 * (truncated, overlong, a surrogate or above U+10FFFF), as DecodeUTF8 decides.
 */
export function validCharLen(buf: Uint8Array, i: number, end: number): number {
  const c = buf[i];
  if (c < 0x80) return 1;
  const avail = end - i;
  if ((c & 0xe0) === 0xc0) {
    if (avail < 2) return 0;
    const cp = ((c & 0x1f) << 6) | (buf[i + 1] & 0x3f);
    return isTrail(buf[i + 1]) && cp >= 0x80 ? 2 : 0;
  }
  if ((c & 0xf0) === 0xe0) {
    if (avail < 3) return 0;
    const cp = ((c & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f);
    return isTrail(buf[i + 1]) && isTrail(buf[i + 2]) && cp >= 0x800 && isValidCodepoint(cp) ? 3 : 0;
  }
  if ((c & 0xf8) === 0xf0) {
    if (avail < 4) return 0;
    const cp = ((c & 0x07) << 18) | ((buf[i + 1] & 0x3f) << 12) | ((buf[i + 2] & 0x3f) << 6) | (buf[i + 3] & 0x3f);
    return isTrail(buf[i + 1]) && isTrail(buf[i + 2]) && isTrail(buf[i + 3]) && cp >= 0x10000 && isValidCodepoint(cp)
      ? 4
      : 0;
  }
  return 0;
}

export const REPLACEMENT_CHAR = new Uint8Array([0xef, 0xbf, 0xbd]);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export const encodeUtf8 = (s: string): Uint8Array => encoder.encode(s);
export const decodeUtf8 = (b: Uint8Array): string => decoder.decode(b);

/** A growable byte buffer, so normalizing long inputs does not build strings piece by piece. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  push(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  append(src: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    this.buf.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }

  endsWith(suffix: Uint8Array): boolean {
    if (this.length < suffix.length) return false;
    for (let i = 0; i < suffix.length; i++) {
      if (this.buf[this.length - suffix.length + i] !== suffix[i]) return false;
    }
    return true;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
