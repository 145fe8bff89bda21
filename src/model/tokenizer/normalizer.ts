/**
 * SentencePiece's text normalizer (normalizer.cc), reproduced byte for byte.
 *
 * The precompiled charsmap is `<uint32 LE trie size><Darts double-array trie><NUL-separated replacement pool>`.
 * At each position the longest trie match is replaced by its pooled string; otherwise one UTF-8 character is
 * copied (a malformed byte becomes U+FFFD). Whitespace is then trimmed/collapsed, a dummy `▁` prefix added and
 * spaces escaped as `▁`, as the spec's flags say.
 *
 * On request it also records where each output byte came from (SentencePiece's `norm_to_orig`, widened to
 * a [start, end) input range per byte), so pieces can be mapped back onto the original text.
 */
import type { ByteTrie } from './byteTrie';
import type { NormalizerSpec } from './sentencepieceModel';
import { ByteWriter, REPLACEMENT_CHAR, decodeUtf8, encodeUtf8, validCharLen } from './utf8';

const SPACE = 0x20;
/** U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space. */
const SPACE_SYMBOL = new Uint8Array([0xe2, 0x96, 0x81]);
const PLAIN_SPACE = new Uint8Array([SPACE]);
/** Longest replacement string accepted in a precompiled charsmap. */
const MAX_REPLACEMENT_BYTES = 256;
/**
 * Longest charsmap rule key followed. Real charsmaps map one character or a short sequence (nmt_nfkc: a few dozen
 * bytes); the walk from each position is bounded by it, so normalization stays linear in the input.
 */
const MAX_RULE_KEY_BYTES = 1024;
/**
 * The normalized text may be at most this many times the input, plus a little: every replacement is bounded
 * (MAX_REPLACEMENT_BYTES) but their sum is not, and real rules expand text at most about 11-fold (ﷺ → 33 bytes).
 */
const MAX_EXPANSION = 16;
const EXPANSION_SLACK = 1024;

/** A charsmap whose rules exceed the bounds above on this input; SentencePieceProcessor names the .spm file. */
export class CharsmapLimitError extends Error {}

/** SentencePiece keeps only this many prefix matches per position (normalizer.h kMaxTrieResultsSize). */
const MAX_TRIE_RESULTS = 32;

/** The Darts-clone double array, read-only. Out-of-range reads count as a mismatch instead of crashing. */
class DoubleArray {
  constructor(private readonly units: Uint32Array) {}

  /**
   * Walks `buf[pos, end)` and returns the [length, value] of the longest key that is a prefix of it,
   * considering only the first MAX_TRIE_RESULTS matches as commonPrefixSearch does; length 0 when none.
   */
  longestMatch(buf: Uint8Array, pos: number, end: number): [number, number] {
    const units = this.units;
    const n = units.length;
    if (n === 0) return [0, 0];
    let node = offsetOf(units[0]);
    let bestLen = 0;
    let bestValue = 0;
    let results = 0;
    for (let i = pos; i < end; i++) {
      if (i - pos >= MAX_RULE_KEY_BYTES) throw new CharsmapLimitError(`normalization charsmap has a rule longer than ${MAX_RULE_KEY_BYTES} bytes`);
      const byte = buf[i];
      node ^= byte;
      if (node >= n) break;
      const unit = units[node];
      // label(): low byte plus the leaf flag bit 31, so leaf units never match a byte.
      if ((unit & 0x800000ff) >>> 0 !== byte) break;
      node ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        if (node >= n) break;
        if (results < MAX_TRIE_RESULTS) {
          bestLen = i + 1 - pos;
          bestValue = units[node] & 0x7fffffff;
        }
        results++;
      }
    }
    return [bestLen, bestValue];
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

/**
 * Where each normalized byte came from: `start[i]`/`end[i]` is the input byte range of the unit (one charsmap
 * match, user-defined symbol or copied character) that produced output byte `i`. Both arrays are
 * non-decreasing. The dummy `▁` covers the whitespace it replaced (leading or trailing, often none, so an
 * empty range at the first/last kept character), and a `▁` standing for collapsed whitespace covers the run.
 * Input bytes that produce nothing (dropped whitespace, characters mapped to "") belong to no output byte.
 */
export class Alignment {
  start = new Int32Array(0);
  end = new Int32Array(0);
  length = 0;

  /** Input range of output bytes [length, upTo). */
  fill(upTo: number, start: number, end: number): void {
    if (upTo > this.start.length) {
      const cap = Math.max(upTo, this.start.length * 2, 64);
      const s = new Int32Array(cap);
      const e = new Int32Array(cap);
      s.set(this.start.subarray(0, this.length));
      e.set(this.end.subarray(0, this.length));
      this.start = s;
      this.end = e;
    }
    const s = this.start;
    const e = this.end;
    for (let i = this.length; i < upTo; i++) {
      s[i] = start;
      e[i] = end;
    }
    this.length = upTo;
  }
}

export interface NormalizerOptions {
  /** TrainerSpec.treat_whitespace_as_suffix: the dummy `▁` goes at the end instead. */
  treatWhitespaceAsSuffix?: boolean;
  /** User-defined symbols, which are copied verbatim before any charsmap rule applies. */
  userDefined?: ByteTrie;
}

export class Normalizer {
  private readonly trie?: DoubleArray;
  private readonly pool: Uint8Array = new Uint8Array(0);
  private readonly poolCache = new Map<number, Uint8Array>();
  private readonly suffix: boolean;
  private readonly userDefined?: ByteTrie;

  // Result of the last prefix() call, kept in fields so the hot loop allocates nothing.
  private matchLen = 0;
  private repl: Uint8Array = REPLACEMENT_CHAR;
  private replStart = 0;
  private replEnd = 0;

  /** Throws an Error when the charsmap blob is malformed (callers name the file). */
  constructor(private readonly spec: NormalizerSpec, options: NormalizerOptions = {}) {
    this.suffix = options.treatWhitespaceAsSuffix ?? false;
    this.userDefined = options.userDefined && !options.userDefined.isEmpty ? options.userDefined : undefined;
    const blob = spec.precompiledCharsmap;
    if (blob.length === 0) return; // identity normalizer
    if (blob.length <= 4) throw new Error('normalization charsmap is broken (too short)');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize >= blob.length) throw new Error('normalization charsmap trie size exceeds the blob');
    const units = new Uint32Array(Math.floor(trieSize / 4));
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + i * 4, true);
    this.trie = new DoubleArray(units);
    this.pool = blob.subarray(4 + trieSize);
    // A replacement runs to the next NUL, so a long NUL-free stretch in the pool would let every input byte expand
    // into that much output (megabytes per character: memory exhaustion). Real charsmaps replace one character by
    // at most a few dozen bytes (nmt_nfkc: 33).
    let run = 0;
    for (const b of this.pool) {
      if (b === 0) run = 0;
      else if (++run > MAX_REPLACEMENT_BYTES) throw new Error(`normalization charsmap is broken (a replacement longer than ${MAX_REPLACEMENT_BYTES} bytes)`);
    }
  }

  /** The NUL-terminated pool string starting at `offset` (empty when out of range). */
  private pooled(offset: number): Uint8Array {
    let s = this.poolCache.get(offset);
    if (s === undefined) {
      if (offset >= this.pool.length) s = new Uint8Array(0);
      else {
        let end = this.pool.indexOf(0, offset);
        if (end < 0) end = this.pool.length;
        s = this.pool.subarray(offset, end);
      }
      this.poolCache.set(offset, s);
    }
    return s;
  }

  /** NormalizePrefix: how many input bytes at `pos` are consumed and what replaces them. */
  private prefix(input: Uint8Array, pos: number, end: number): void {
    if (this.userDefined) {
      const len = this.userDefined.longestPrefix(input, pos, end);
      if (len > 0) return this.setVerbatim(input, pos, len);
    }
    if (this.trie) {
      const [len, value] = this.trie.longestMatch(input, pos, end);
      if (len > 0) {
        const s = this.pooled(value);
        this.matchLen = len;
        this.repl = s;
        this.replStart = 0;
        this.replEnd = s.length;
        return;
      }
    }
    const len = validCharLen(input, pos, end);
    if (len === 0) {
      // Malformed UTF-8: one byte is consumed and U+FFFD emitted.
      this.matchLen = 1;
      this.repl = REPLACEMENT_CHAR;
      this.replStart = 0;
      this.replEnd = 3;
      return;
    }
    this.setVerbatim(input, pos, len);
  }

  private setVerbatim(input: Uint8Array, pos: number, len: number): void {
    this.matchLen = len;
    this.repl = input;
    this.replStart = pos;
    this.replEnd = pos + len;
  }

  /**
   * Normalizes UTF-8 bytes (invalid sequences allowed) into UTF-8 bytes. With `align`, also records the
   * input range of every output byte (bookkeeping is per unit, so the plain path pays one branch per unit).
   */
  normalize(input: Uint8Array, align?: Alignment): Uint8Array {
    const { removeExtraWhitespaces, escapeWhitespaces, addDummyPrefix } = this.spec;
    const end = input.length;
    if (align) align.length = 0;
    let pos = 0;
    if (removeExtraWhitespaces) {
      // Leading characters that normalize to exactly one space are dropped.
      while (pos < end) {
        this.prefix(input, pos, end);
        if (this.replEnd - this.replStart !== 1 || this.repl[this.replStart] !== SPACE) break;
        pos += this.matchLen;
      }
    }
    if (pos >= end) return new Uint8Array(0);

    const out = new ByteWriter((end - pos) * 3 + 8);
    const ws = escapeWhitespaces ? SPACE_SYMBOL : PLAIN_SPACE;
    const addWs = (): void => {
      if (escapeWhitespaces) out.append(SPACE_SYMBOL, 0, 3);
      else out.push(SPACE);
    };
    if (!this.suffix && addDummyPrefix) {
      addWs();
      // The dummy prefix stands for the leading whitespace that was dropped (none: empty at the first char).
      align?.fill(out.length, 0, pos);
    }

    let prevSpace = removeExtraWhitespaces;
    const maxOut = MAX_EXPANSION * end + EXPANSION_SLACK;
    while (pos < end) {
      if (out.length > maxOut) {
        throw new CharsmapLimitError(`normalization rules expand the text more than ${MAX_EXPANSION}-fold (${end} bytes became over ${maxOut})`);
      }
      this.prefix(input, pos, end);
      const repl = this.repl;
      let s = this.replStart;
      const e = this.replEnd;
      // A piece that starts with spaces right after a space loses them.
      while (prevSpace && s < e && repl[s] === SPACE) s++;
      if (s < e) {
        for (let i = s; i < e; i++) {
          if (escapeWhitespaces && repl[i] === SPACE) out.append(SPACE_SYMBOL, 0, 3);
          else out.push(repl[i]);
        }
        prevSpace = repl[e - 1] === SPACE;
        align?.fill(out.length, pos, pos + this.matchLen);
      } else if (align && s > this.replStart && out.length > 0 && out.endsWith(ws)) {
        // Whitespace collapsed into the preceding space: that space now stands for this run too.
        align.end.fill(pos + this.matchLen, out.length - ws.length, out.length);
      }
      pos += this.matchLen;
      if (!removeExtraWhitespaces) prevSpace = false;
    }

    let trailing = end;
    if (removeExtraWhitespaces) {
      while (out.endsWith(ws)) out.length -= ws.length;
      if (align && align.length > out.length) {
        trailing = align.start[out.length];
        align.length = out.length;
      }
    }
    if (this.suffix && addDummyPrefix) {
      addWs();
      // Like the prefix: the trailing whitespace it replaced, or an empty range after the last kept char.
      align?.fill(out.length, trailing, end);
    }
    return out.bytes();
  }

  /** Convenience wrapper for strings (lone surrogates become U+FFFD on encoding). */
  normalizeText(text: string): string {
    return decodeUtf8(this.normalize(encodeUtf8(text)));
  }
}
