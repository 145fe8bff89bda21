/**
 * The inspection data for one explained sentence. The big numbers (attention weights, positional values) are
 * Float32Arrays, the engine's own precision: they cross the worker boundary in shared memory and reach the webviews
 * as typed arrays. Plain JSON exists only at the edges (CLI --json, JSON export): see `explanationToJson` in
 * ./attention.ts. Read attention weights through the accessors there (`headMatrix`, `attentionRow`).
 */

/** The three attention kinds of an encoder–decoder, in the order the views list them. */
export const ATTENTION_KINDS = ['encoder', 'decoder', 'cross'] as const;
export type AttentionKindName = (typeof ATTENTION_KINDS)[number];

/** One attention kind for all layers. */
export interface AttentionKind {
  layers: number;
  heads: number;
  queryLen: number;
  keyLen: number;
  /** Token labels along the query axis (rows) and key axis (columns). */
  queryTokens: string[];
  keyTokens: string[];
  /** Row-major [layers, heads, queryLen, keyLen]; each row is a softmax over the keys (future keys 0 in the decoder). */
  weights: Float32Array;
}

/** Top-k candidates the model considered at one decoding step. */
export interface DecodingStep {
  /** Index of the generated token in `targetTokens` (1 = first token after the decoder start token). */
  position: number;
  chosenId: number;
  chosenPiece: string;
  chosenProb: number;
  /** 1 + the number of candidates the model ranked above the chosen token (1 = its own first choice). */
  chosenRank?: number;
  topIds: number[];
  topPieces: string[];
  topProbs: number[];
}

/** Per decoder layer, one top-k row per step (see Explanation.logitLens). */
export interface LogitLens {
  layers: Array<{ topIds: number[][]; topProbs: number[][]; topPieces: string[][] }>;
}

export interface ModelSummary {
  /** Folder name, or "bundled" for the embedded checkpoint. */
  name: string;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  vocabSize: number;
  activation: string;
  sourceLang?: string;
  targetLang?: string;
  /** Stored weights: tied embeddings once, final_logits_bias included, the computed sinusoid tables not (Hugging Face counts those and leaves the bias out). */
  parameters?: number;
  /** `>>xx<<` target-language tokens of a multilingual model (empty otherwise). */
  languageCodes?: string[];
}

export interface Explanation {
  model: ModelSummary;
  /** The text that was explained, after truncation to the token budget. */
  sourceText: string;
  /** True when the input was longer than the token budget and was cut. */
  truncated: boolean;
  /** Source tokens as SentencePiece pieces, ending with "</s>". */
  sourcePieces: string[];
  sourceIds: number[];
  /** [start, end) UTF-16 offsets into sourceText of each source piece (eos: [len, len]). */
  sourceOffsets: Array<[number, number]>;
  /** Decoder tokens: the start token, then each generated token (ending with "</s>" unless max length hit). */
  targetPieces: string[];
  targetIds: number[];
  translation: string;
  attentions: {
    /** Encoder self-attention: queries and keys are source tokens. */
    encoder: AttentionKind;
    /** Decoder masked self-attention: queries and keys are the decoder inputs (start token + generated tokens but the last). */
    decoder: AttentionKind;
    /** Encoder-decoder attention: queries are decoder inputs, keys are source tokens. */
    cross: AttentionKind;
  };
  /** What the model adds to the scaled embeddings: row-major [positions, dModel]; positions = max(source, target) length. */
  positional: { positions: number; dModel: number; values: Float32Array };
  /** One entry per generated token (greedy: the argmax path; beam: the best hypothesis's path). */
  steps: DecodingStep[];
  /**
   * Teacher forcing: `targetIds` are the start token, a given target's tokens and `</s>`, and each step scores the
   * given token under the model (chosenProb, chosenRank) instead of choosing it. Absent for generated translations.
   */
  forced?: boolean;
  /** With `forced` or a branch: things to tell the user about the given target (pieces outside the vocabulary). */
  targetNotes?: string[];
  /** Sum of ln(chosenProb) over the steps: how likely the model finds the whole target. */
  logProb?: number;
  /**
   * The decoder's logit lens: per decoder layer, what it would predict if the decoder stopped after that layer
   * (layer output → tied output projection + final_logits_bias → the generation processors → softmax; Marian is
   * post-LayerNorm, so the output is already normalised). `layers[l].topIds[p]` = top-k at the position of `steps[p]`;
   * the last layer is the real prediction.
   */
  logitLens?: LogitLens;
  numBeams: number;
  timingsMs: { tokenize: number; encode: number; decode: number; total: number };
}
