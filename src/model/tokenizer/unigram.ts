/**
 * Unigram segmentation: the best-scoring split of a normalized string into pieces, computed as
 * SentencePiece's EncodeOptimized does (byte positions, float32 path scores, first candidate wins ties).
 */
import { ByteTrie } from './byteTrie';
import { PieceType, type SentencePiece } from './sentencepieceModel';
import { oneCharLen } from './utf8';

/** A segment `[start, end)` of the normalized bytes; `id` is the spm piece id (the unk id for unknown text). */
export interface Segment {
  start: number;
  end: number;
  id: number;
}

/** Unknown characters score this far below the worst normal piece (kUnkPenalty). */
const UNK_PENALTY = 10;
const FLT_MAX = 3.4028234663852886e38;
const FLT_MIN = 1.1754943508222875e-38;

const f32 = Math.fround;

export class UnigramModel {
  /** NORMAL, USER_DEFINED and UNUSED pieces; control, unknown and byte pieces are never matched from text. */
  private readonly trie = new ByteTrie();
  private readonly scores: Float32Array;
  private readonly types: Uint8Array;
  private readonly maxScore: number;
  private readonly unkScore: number;

  constructor(pieces: readonly SentencePiece[], private readonly unkId: number) {
    this.scores = new Float32Array(pieces.length);
    this.types = new Uint8Array(pieces.length);
    let min = FLT_MAX;
    let max = FLT_MIN; // SentencePiece starts from FLT_MIN, so user-defined bonuses use at least ~0
    pieces.forEach((p, id) => {
      this.scores[id] = p.score;
      this.types[id] = p.type;
      if (p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED) {
        this.trie.insert(p.bytes, id);
      }
      if (p.type === PieceType.NORMAL) {
        min = Math.min(min, p.score);
        max = Math.max(max, p.score);
      }
    });
    this.maxScore = max;
    this.unkScore = f32(min - UNK_PENALTY);
  }

  /** Segments normalized UTF-8 bytes. Memory is O(n); time O(n × longest piece). */
  encode(text: Uint8Array): Segment[] {
    const n = text.length;
    if (n === 0) return [];
    const best = new Float32Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const ids = new Int32Array(n + 1);
    const { trie, scores, types } = this;

    // Candidate scores are compared as SentencePiece does: float32 sums, except the user-defined
    // bonus which is computed in double and only rounded when stored.
    const offer = (at: number, start: number, id: number, score: number): void => {
      if (from[at] === -1 || score > best[at]) {
        best[at] = score;
        from[at] = start;
        ids[at] = id;
      }
    };

    for (let start = 0; start < n; ) {
      const base = best[start];
      const charLen = Math.min(oneCharLen(text[start]), n - start);
      let hasSingleChar = false;
      let node = ByteTrie.ROOT;
      for (let k = start; k < n; ) {
        node = trie.child(node, text[k]);
        if (node < 0) break;
        k++;
        const id = trie.value(node);
        if (id < 0 || types[id] === PieceType.UNUSED) continue;
        const length = k - start;
        const score =
          types[id] === PieceType.USER_DEFINED ? f32(length * this.maxScore) - 0.1 + base : f32(scores[id] + base);
        offer(k, start, id, score);
        if (length === charLen) hasSingleChar = true;
      }
      if (!hasSingleChar) offer(start + charLen, start, this.unkId, f32(this.unkScore + base));
      start += charLen;
    }

    const out: Segment[] = [];
    for (let end = n; end > 0; ) {
      const start = from[end];
      out.push({ start, end, id: ids[end] });
      end = start;
    }
    return out.reverse();
  }
}
