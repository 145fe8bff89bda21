/** Parses a Marian `config.json` (and `generation_config.json`, or the generation keys old folders keep in config.json). */
import { jsonSyntaxProblem } from '../../shared/safeText';
import { ModelFileError } from './errors';

export type Activation = 'relu' | 'gelu' | 'swish';

export interface MarianConfig {
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  encoderFfn: number;
  decoderFfn: number;
  vocabSize: number;
  maxPositions: number;
  activation: Activation;
  scaleEmbedding: boolean;
  padTokenId: number;
  eosTokenId: number;
  decoderStartTokenId: number;
  layerNormEps: number;
  /**
   * Hugging Face `tie_word_embeddings` (default true): the output projection is the decoder's input embedding
   * table, and a stored `lm_head.weight` is ignored, as transformers' tie_weights() does. Optional so that
   * hand-built configs keep working; absent = true.
   */
  tieWordEmbeddings?: boolean;
}

export interface GenerationSettings {
  numBeams: number;
  /** Total decoder length limit, counting the decoder start token (Hugging Face `max_length`). */
  maxLength: number;
  badWordsIds: number[][];
  forcedEosTokenId: number | undefined;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
}

/**
 * Position limit this engine accepts. Explanations keep every attention matrix, which grow with the square of the
 * sentence length, so a config claiming millions of positions must be refused rather than trusted.
 */
const MAX_POSITIONS = 4096;

const ACTIVATIONS: Record<string, Activation> = { relu: 'relu', gelu: 'gelu', swish: 'swish', silu: 'swish' };

type Json = Record<string, unknown>;

function parseJsonObject(file: string, text: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, `is not valid JSON (${jsonSyntaxProblem(e, text)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ModelFileError(file, 'is not a JSON object');
  return v as Json;
}

function int(file: string, o: Json, key: string, fallback?: number, min = 0): number {
  const v = o[key] ?? fallback;
  if (v === undefined) throw new ModelFileError(file, `is missing the required key "${key}"`);
  if (!Number.isSafeInteger(v) || (v as number) < min) {
    throw new ModelFileError(file, `key "${key}" must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v as number;
}

function bool(file: string, o: Json, key: string, fallback: boolean): boolean {
  const v = o[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ModelFileError(file, `key "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function parseMarianConfig(file: string, text: string): MarianConfig {
  const o = parseJsonObject(file, text);
  if (o.model_type !== undefined && o.model_type !== 'marian') {
    throw new ModelFileError(file, `key "model_type" is ${JSON.stringify(o.model_type)}; only "marian" models are supported`);
  }
  // transformers' MarianConfig defaults to "gelu" when the key is absent.
  const act = o.activation_function ?? 'gelu';
  if (typeof act !== 'string' || !Object.hasOwn(ACTIVATIONS, act)) {
    throw new ModelFileError(file, `key "activation_function" is ${JSON.stringify(act)}; supported: relu, gelu, swish (silu)`);
  }
  // "normalize_before", "normalize_embedding", "add_final_layer_norm", "add_bias_logits", "static_position_embeddings"
  // and "layer_norm_eps" are BART-era keys that old opus-mt configs still carry. transformers' MarianConfig does not
  // declare them and modeling_marian never reads them (always post-LayerNorm, no embedding LayerNorm, sinusoidal
  // positions, final_logits_bias always added, LayerNorm eps 1e-5), so they are accepted and ignored: the forward pass
  // then equals Hugging Face's for any value they hold.
  const shareEmbeddings = bool(file, o, 'share_encoder_decoder_embeddings', true);
  if (!shareEmbeddings) {
    throw new ModelFileError(file, 'key "share_encoder_decoder_embeddings" is false; separate encoder and decoder embedding tables are not supported');
  }
  const cfg: MarianConfig = {
    dModel: int(file, o, 'd_model', undefined, 1),
    encoderLayers: int(file, o, 'encoder_layers', undefined, 1),
    decoderLayers: int(file, o, 'decoder_layers', undefined, 1),
    encoderHeads: int(file, o, 'encoder_attention_heads', undefined, 1),
    decoderHeads: int(file, o, 'decoder_attention_heads', undefined, 1),
    encoderFfn: int(file, o, 'encoder_ffn_dim', undefined, 1),
    decoderFfn: int(file, o, 'decoder_ffn_dim', undefined, 1),
    vocabSize: int(file, o, 'vocab_size', undefined, 2),
    // at least the one source token plus </s>; transformers' default is 1024
    maxPositions: int(file, o, 'max_position_embeddings', 1024, 2),
    activation: ACTIVATIONS[act],
    scaleEmbedding: bool(file, o, 'scale_embedding', false),
    padTokenId: int(file, o, 'pad_token_id'),
    eosTokenId: int(file, o, 'eos_token_id'),
    decoderStartTokenId: int(file, o, 'decoder_start_token_id', o.pad_token_id as number),
    layerNormEps: 1e-5,
    tieWordEmbeddings: bool(file, o, 'tie_word_embeddings', true),
  };
  if (cfg.maxPositions > MAX_POSITIONS) {
    throw new ModelFileError(file, `key "max_position_embeddings" is ${cfg.maxPositions}; at most ${MAX_POSITIONS} positions are supported (Marian checkpoints use 512 or 1024)`);
  }
  if (cfg.dModel % cfg.encoderHeads !== 0) throw new ModelFileError(file, `"d_model" ${cfg.dModel} is not divisible by "encoder_attention_heads" ${cfg.encoderHeads}`);
  if (cfg.dModel % cfg.decoderHeads !== 0) throw new ModelFileError(file, `"d_model" ${cfg.dModel} is not divisible by "decoder_attention_heads" ${cfg.decoderHeads}`);
  if (o.decoder_vocab_size !== undefined && o.decoder_vocab_size !== null && o.decoder_vocab_size !== cfg.vocabSize) {
    throw new ModelFileError(file, `key "decoder_vocab_size" (${JSON.stringify(o.decoder_vocab_size)}) differs from "vocab_size"; separate target embeddings are not supported`);
  }
  for (const key of ['padTokenId', 'eosTokenId', 'decoderStartTokenId'] as const) {
    if (cfg[key] >= cfg.vocabSize) throw new ModelFileError(file, `${key} ${cfg[key]} is outside the vocabulary of ${cfg.vocabSize}`);
  }
  const params = parameterCount(cfg);
  if (params > MAX_PARAMETERS) {
    throw new ModelFileError(file, `describes a model of ${params.toExponential(2)} parameters (d_model ${cfg.dModel}, vocab_size ${cfg.vocabSize}, ${cfg.encoderLayers}+${cfg.decoderLayers} layers); at most ${MAX_PARAMETERS.toExponential(2)} are supported`);
  }
  return cfg;
}

/**
 * Largest model accepted: 2^30 parameters (4 GiB as float32), eight times opus-mt-big. The sizes a config gives
 * decide every allocation that follows, so they are bounded here, before any weight is read.
 */
export const MAX_PARAMETERS = 2 ** 30;

/** Parameters of the network a config describes (embeddings once, as they are tied; an untied lm_head counted). */
export function parameterCount(cfg: MarianConfig): number {
  const d = cfg.dModel, V = cfg.vocabSize;
  const attention = 4 * (d * d + d);
  const norm = 2 * d;
  const ffn = (f: number) => d * f + f + f * d + d;
  const enc = cfg.encoderLayers * (attention + norm + ffn(cfg.encoderFfn) + norm);
  const dec = cfg.decoderLayers * (2 * attention + 2 * norm + ffn(cfg.decoderFfn) + norm);
  return V * d * (cfg.tieWordEmbeddings === false ? 2 : 1) + V + enc + dec;
}

/**
 * Largest weight file a model of this config can come in: every parameter as float32, plus the tied copies and
 * position tables checkpoints also store (encoder/decoder embed_tokens, lm_head, embed_positions), plus room for
 * archive and header overhead. A bigger file is refused before it is read.
 */
export function weightFileCap(cfg: MarianConfig): number {
  const copies = 3 * cfg.vocabSize * cfg.dModel + 2 * (cfg.maxPositions + 2) * cfg.dModel;
  return 4 * (parameterCount(cfg) + copies) + 64 * 1024 * 1024;
}

/**
 * Generation settings with Hugging Face's precedence: generation_config.json when present,
 * otherwise the generation keys of config.json, otherwise transformers' defaults.
 */
export function parseGenerationSettings(
  source: { file: string; text: string },
  cfg: MarianConfig,
): GenerationSettings {
  const o = parseJsonObject(source.file, source.text);
  const numBeams = int(source.file, o, 'num_beams', 1, 1);
  const maxLength = int(source.file, o, 'max_length', 20, 1);
  const bad = o.bad_words_ids ?? [];
  if (!Array.isArray(bad) || !bad.every((seq) => Array.isArray(seq) && seq.every((t) => Number.isSafeInteger(t) && t >= 0))) {
    throw new ModelFileError(source.file, `key "bad_words_ids" must be a list of token-id lists, got ${JSON.stringify(bad).slice(0, 80)}`);
  }
  // a vocabulary every token of which is banned outright can never produce a token
  const bannedAlways = new Set<number>();
  for (const seq of bad as number[][]) if (seq.length === 1 && seq[0] < cfg.vocabSize) bannedAlways.add(seq[0]);
  if (bannedAlways.size === cfg.vocabSize) {
    throw new ModelFileError(source.file, `key "bad_words_ids" bans every one of the ${cfg.vocabSize} tokens, so nothing can ever be generated`);
  }
  const forced = o.forced_eos_token_id;
  if (forced !== undefined && forced !== null && !(Number.isSafeInteger(forced) && (forced as number) < cfg.vocabSize)) {
    throw new ModelFileError(source.file, `key "forced_eos_token_id" must be a token id, got ${JSON.stringify(forced)}`);
  }
  const lp = o.length_penalty ?? 1.0;
  if (typeof lp !== 'number' || !Number.isFinite(lp)) throw new ModelFileError(source.file, `key "length_penalty" must be a number`);
  const es = o.early_stopping ?? false;
  if (es !== true && es !== false && es !== 'never') throw new ModelFileError(source.file, `key "early_stopping" must be true, false or "never"`);
  return {
    numBeams,
    maxLength,
    badWordsIds: bad as number[][],
    forcedEosTokenId: (forced ?? undefined) as number | undefined,
    lengthPenalty: lp,
    earlyStopping: es,
  };
}
