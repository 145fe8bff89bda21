/**
 * The tasks that ship: (a) the notes' "let's go" → "vamos", (b) reversing short symbol sequences (the right
 * cross-attention is known: an anti-diagonal), (c) short English–Spanish pairs from the bundled checkpoint's
 * training data with its SentencePiece tokenizer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Activation, MarianConfig } from '../loading/config';
import { findBundledModel } from '../loading/bundledModel';
import { MarianTokenizer } from '../tokenizer/marianTokenizer';
import { Rng } from './params';
import { WordVocabulary } from './wordVocabulary';

export interface TaskPair {
  source: string;
  target: string;
  sourceIds: number[];
  /** Target ids + </s>. */
  labels: number[];
}

export interface Hyperparameters {
  lr: number;
  warmupSteps: number;
  /** Pairs per step (the whole set when it is smaller). */
  batchSize: number;
  /** Standard deviation of the initial weights. */
  initStd: number;
  weightDecay: number;
  labelSmoothing: number;
  /** Longest probe translation. */
  maxNewTokens: number;
}

export interface Task {
  name: string;
  title: string;
  config: MarianConfig;
  /** config.json as Hugging Face writes it for this architecture. */
  hfConfig: Record<string, unknown>;
  train: TaskPair[];
  heldOut: TaskPair[];
  /** Sentences whose translations the progress reports show. */
  probes: TaskPair[];
  hyper: Hyperparameters;
  encodeSource(text: string): number[];
  decode(ids: number[]): string;
  /** Tokenizer files for the saved folder (file name → contents). */
  tokenizerFiles(): Record<string, Uint8Array | string>;
}

export const TASK_NAMES = ['lets-go', 'reverse', 'tatoeba-en-es'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

interface Architecture {
  dModel: number;
  layers: number;
  heads: number;
  ffn: number;
  vocab: number;
  pad: number;
  eos: number;
  maxPositions: number;
  activation: Activation;
}

function architecture(a: Architecture): { config: MarianConfig; hfConfig: Record<string, unknown> } {
  const config: MarianConfig = {
    dModel: a.dModel, encoderLayers: a.layers, decoderLayers: a.layers, encoderHeads: a.heads, decoderHeads: a.heads,
    encoderFfn: a.ffn, decoderFfn: a.ffn, vocabSize: a.vocab, maxPositions: a.maxPositions, activation: a.activation,
    scaleEmbedding: false, padTokenId: a.pad, eosTokenId: a.eos, decoderStartTokenId: a.pad, layerNormEps: 1e-5,
    tieWordEmbeddings: true,
  };
  const hfConfig = {
    architectures: ['MarianMTModel'], model_type: 'marian', activation_function: a.activation, d_model: a.dModel,
    encoder_layers: a.layers, decoder_layers: a.layers, encoder_attention_heads: a.heads, decoder_attention_heads: a.heads,
    encoder_ffn_dim: a.ffn, decoder_ffn_dim: a.ffn, vocab_size: a.vocab, decoder_vocab_size: a.vocab,
    max_position_embeddings: a.maxPositions, pad_token_id: a.pad, eos_token_id: a.eos, bos_token_id: a.eos,
    decoder_start_token_id: a.pad, forced_eos_token_id: a.eos, scale_embedding: false, share_encoder_decoder_embeddings: true,
    static_position_embeddings: true, tie_word_embeddings: true, dropout: 0, attention_dropout: 0, activation_dropout: 0,
    encoder_layerdrop: 0, decoder_layerdrop: 0, init_std: 0.02, is_encoder_decoder: true, use_cache: true, dtype: 'float32',
  };
  return { config, hfConfig };
}

function wordTask(
  name: string, title: string, vocab: WordVocabulary, pairs: Array<[string, string]>, heldOut: Array<[string, string]>,
  probes: Array<[string, string]>, arch: Omit<Architecture, 'vocab' | 'pad' | 'eos'>, hyper: Hyperparameters,
): Task {
  const pair = ([source, target]: [string, string]): TaskPair => ({ source, target, sourceIds: vocab.encode(source), labels: vocab.encode(target) });
  return {
    name, title, ...architecture({ ...arch, vocab: vocab.size, pad: vocab.padId, eos: vocab.eosId }),
    train: pairs.map(pair), heldOut: heldOut.map(pair), probes: probes.map(pair), hyper,
    encodeSource: (t) => vocab.encode(t),
    decode: (ids) => vocab.decode(ids),
    tokenizerFiles: () => {
      const spm = vocab.sentencePieceModel();
      return { 'source.spm': spm, 'target.spm': spm, 'vocab.json': vocab.vocabJson(), ...tokenizerConfig('en', 'es') };
    },
  };
}

function tokenizerConfig(source: string, target: string): Record<string, string> {
  return {
    'tokenizer_config.json': JSON.stringify({
      tokenizer_class: 'MarianTokenizer', source_lang: source, target_lang: target, eos_token: '</s>', unk_token: '<unk>',
      pad_token: '<pad>', separate_vocabs: false, model_max_length: 512,
    }, null, 1),
    'special_tokens_map.json': JSON.stringify({ eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>' }, null, 1),
  };
}

/**
 * (a) The study notes' example. d_model 4 (shown in 2-D): with d_model 2 a LayerNorm leaves only which of the two
 * numbers is larger, so the decoder's last state could take two values, too few for three outputs (vamos, ir, </s>).
 */
export function letsGoTask(): Task {
  const vocab = new WordVocabulary(["let's", 'go', 'to', 'vamos', 'ir']);
  const pairs: Array<[string, string]> = [["let's go", 'vamos'], ['to go', 'ir']];
  return wordTask('lets-go', '"let\'s go" → "vamos", "to go" → "ir"', vocab, pairs, pairs, pairs,
    { dModel: 4, layers: 1, heads: 1, ffn: 16, maxPositions: 8, activation: 'gelu' },
    { lr: 0.03, warmupSteps: 5, batchSize: 2, initStd: 0.5, weightDecay: 0, labelSmoothing: 0, maxNewTokens: 4 });
}

const SYMBOLS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** (b) Reverse 3–6 symbols: output position i must attend to input position n − 1 − i (an anti-diagonal). */
export function reverseTask(seed = 1): Task {
  const vocab = new WordVocabulary(SYMBOLS);
  const rng = new Rng(seed * 7919 + 13);
  const sample = (): [string, string] => {
    const n = 3 + rng.int(4);
    const s = Array.from({ length: n }, () => SYMBOLS[rng.int(SYMBOLS.length)]);
    return [s.join(' '), [...s].reverse().join(' ')];
  };
  const train = Array.from({ length: 4000 }, sample);
  const heldOut = Array.from({ length: 200 }, sample);
  return wordTask('reverse', 'reverse a sequence of symbols', vocab, train, heldOut, [['a b c d e', 'e d c b a'], ['h g a f', 'f a g h']],
    { dModel: 32, layers: 1, heads: 2, ffn: 64, maxPositions: 16, activation: 'relu' },
    { lr: 0.003, warmupSteps: 50, batchSize: 16, initStd: 0.1, weightDecay: 0.01, labelSmoothing: 0, maxNewTokens: 8 });
}

/** The pairs file shipped with the extension (CC BY 2.0, www.manythings.org/anki and tatoeba.org). */
export function tatoebaFile(): string {
  return path.join(path.dirname(findBundledModel()), 'train', 'tatoeba-en-es-short.tsv');
}

/**
 * (c) 3,000 short English–Spanish training pairs (and 195 held out) from the bundled checkpoint's training and
 * validation splits, tokenized with its SentencePiece model. The vocabulary keeps only the pieces these pairs
 * use (renumbered; the saved vocab.json maps them), so the output layer is small enough to train on a laptop.
 */
export function tatoebaTask(): Task {
  const bundled = findBundledModel();
  const tok = MarianTokenizer.fromFolder(bundled);
  const rows = fs.readFileSync(tatoebaFile(), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
  const encoded = rows.map(([split, en, es]) => ({ split, en, es, src: tok.encode(en).ids, tgt: tok.encodeTarget(es).ids }));
  const used = new Set<number>();
  for (const e of encoded) for (const id of [...e.src, ...e.tgt]) used.add(id);
  used.delete(tok.eosId);
  used.delete(tok.unkId);
  used.delete(tok.padId);
  // compact ids: </s> 0, <unk> 1, the used pieces in the checkpoint's order, <pad> last
  const original = [tok.eosId, tok.unkId, ...[...used].sort((a, b) => a - b), tok.padId];
  const compact = new Map(original.map((id, i) => [id, i]));
  const toCompact = (ids: number[]): number[] => ids.map((id) => compact.get(id) ?? 1);
  const pairs = (split: string): TaskPair[] => encoded.filter((e) => e.split === split)
    .map((e) => ({ source: e.en, target: e.es, sourceIds: toCompact(e.src), labels: toCompact(e.tgt) }));
  const train = pairs('train'), heldOut = pairs('valid');
  const V = original.length;
  return {
    name: 'tatoeba-en-es', title: 'English → Spanish (3,000 short Tatoeba pairs)',
    ...architecture({ dModel: 64, layers: 2, heads: 2, ffn: 128, vocab: V, pad: V - 1, eos: 0, maxPositions: 64, activation: 'relu' }),
    train, heldOut, probes: heldOut.slice(0, 3),
    hyper: { lr: 0.002, warmupSteps: 200, batchSize: 16, initStd: 0.05, weightDecay: 0.01, labelSmoothing: 0.1, maxNewTokens: 16 },
    encodeSource: (t) => toCompact(tok.encode(t).ids),
    decode: (ids) => tok.decode(ids.map((i) => original[i] ?? tok.unkId), { skipSpecialTokens: true }),
    tokenizerFiles: () => {
      const vocab: Record<string, number> = {};
      original.forEach((id, i) => (vocab[tok.idToPiece(id)] = i));
      return {
        'source.spm': fs.readFileSync(path.join(bundled, 'source.spm')),
        'target.spm': fs.readFileSync(path.join(bundled, 'target.spm')),
        'vocab.json': JSON.stringify(vocab, null, 1),
        ...tokenizerConfig('en', 'es'),
      };
    },
  };
}

export function makeTask(name: string, seed = 1): Task {
  switch (name) {
    case 'lets-go':
      return letsGoTask();
    case 'reverse':
      return reverseTask(seed);
    case 'tatoeba-en-es':
      return tatoebaTask();
    default:
      throw new Error(`unknown task "${name}"; tasks: ${TASK_NAMES.join(', ')}`);
  }
}
