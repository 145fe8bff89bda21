/**
 * A word-level vocabulary for the toy tasks, saved in the files a Marian folder needs: a SentencePiece unigram
 * model whose only pieces are the whole words (each "▁word", so "let's go" segments into ▁let's ▁go) and a
 * vocab.json mapping those pieces to the model's ids. Both our loader and SentencePiece itself read it.
 */
import * as protobuf from 'protobufjs/minimal';

export const EOS = '</s>';
export const UNK = '<unk>';
export const PAD = '<pad>';
const SPACE = '\u2581';

/** Ids: </s> 0, <unk> 1, the words from 2, <pad> last (Marian's layout: the pad token is the decoder start). */
export class WordVocabulary {
  readonly ids = new Map<string, number>();
  readonly words: string[];

  constructor(words: string[]) {
    this.words = [EOS, UNK, ...words, PAD];
    this.words.forEach((w, i) => this.ids.set(w, i));
  }

  get size(): number {
    return this.words.length;
  }
  get eosId(): number {
    return 0;
  }
  get unkId(): number {
    return 1;
  }
  get padId(): number {
    return this.words.length - 1;
  }

  /** Space-separated words → ids + </s> (unknown words → <unk>), as the saved tokenizer encodes them. */
  encode(text: string): number[] {
    const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
    return [...words.map((w) => this.ids.get(w) ?? this.unkId), this.eosId];
  }

  decode(ids: number[]): string {
    return ids.filter((i) => i !== this.eosId && i !== this.padId).map((i) => this.words[i] ?? UNK).join(' ');
  }

  /** vocab.json: each word as its SentencePiece piece ("▁word") → id. */
  vocabJson(): string {
    const o: Record<string, number> = {};
    this.words.forEach((w, i) => (o[w === EOS || w === UNK || w === PAD ? w : SPACE + w] = i));
    return JSON.stringify(o, null, 1);
  }

  /** A serialized SentencePiece ModelProto (unigram, identity normalizer) whose pieces are the whole words. */
  sentencePieceModel(): Uint8Array {
    const w = protobuf.Writer.create();
    const piece = (text: string, score: number, type: number): void => {
      w.uint32((1 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).string(text);
      w.uint32((2 << 3) | 5).float(score);
      w.uint32((3 << 3) | 0).int32(type);
      w.ldelim();
    };
    // SentencePiece's own layout: <unk> 0, <s> 1, </s> 2 (UNKNOWN = 2, CONTROL = 3, NORMAL = 1)
    piece(UNK, 0, 2);
    piece('<s>', 0, 3);
    piece(EOS, 0, 3);
    for (const word of this.words.slice(2, -1)) piece(SPACE + word, -1, 1);
    // trainer_spec: model_type UNIGRAM (field 3)
    w.uint32((2 << 3) | 2).fork().uint32((3 << 3) | 0).int32(1).ldelim();
    // normalizer_spec: name "identity", add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces
    w.uint32((3 << 3) | 2).fork()
      .uint32((1 << 3) | 2).string('identity')
      .uint32((3 << 3) | 0).bool(true)
      .uint32((4 << 3) | 0).bool(true)
      .uint32((5 << 3) | 0).bool(true)
      .ldelim();
    return w.finish();
  }
}
