/**
 * One token followed through the model: every named intermediate of every layer of its side, as plain JSON (the
 * `attention-lens trace --json` contract; the walk-through view reads the same object). Vectors are number[];
 * `keys`/`values` hold only the keys the token sees (the decoder's self-attention: target tokens 0..token).
 */

export type TraceSide = 'source' | 'target';

export interface TraceTokens {
  pieces: string[];
  ids: number[];
}

export interface TraceHead {
  /** [dHead] the token's query for this head. */
  q: number[];
  /** [visible keys][dHead] */
  keys: number[][];
  values: number[][];
  /** [visible keys] q·k */
  scores: number[];
  /** [visible keys] q·k ÷ √dHead */
  scaled: number[];
  /** [visible keys] softmax(scaled): the attention weights */
  weights: number[];
  /** [dHead] Σ weight·value */
  context: number[];
}

export interface TraceNorm {
  mean: number;
  /** Population variance. */
  variance: number;
  output: number[];
  /** Only with `details`: (x − mean)/√(variance + eps), then the LayerNorm's γ and β and eps. */
  normalized?: number[];
  gamma?: number[];
  beta?: number[];
  eps?: number;
}

export interface TraceAttention {
  kind: 'encoder' | 'decoder' | 'cross';
  input: number[];
  heads: TraceHead[];
  /** Output projection of the concatenated contexts. */
  output: number[];
  /** input + output */
  residual: number[];
  norm: TraceNorm;
}

export interface TraceFeedForward {
  input: number[];
  /** After the activation. */
  hidden: number[];
  output: number[];
  residual: number[];
  norm: TraceNorm;
  /** Only with `details`: fc1's output before the activation, and the activation's name. */
  preActivation?: number[];
  activation?: string;
}

export interface TraceLayer {
  /** encoder: [self]; decoder: [self, cross]. */
  attention: TraceAttention[];
  feedForward: TraceFeedForward;
}

export interface TraceLogits {
  topIds: number[];
  topPieces: string[];
  topLogits: number[];
  topProbs: number[];
  /** Only with `details`: the token that follows in the target (what the decoder was given or chose next), if any. */
  nextId?: number;
  nextPiece?: string;
  nextLogit?: number;
  nextProb?: number;
}

export interface Trace {
  source: TraceTokens;
  /** The decoder input: the start token, then the target tokens without the final </s>. */
  target: TraceTokens;
  side: TraceSide;
  token: number;
  embedding: {
    /** The embedding row, unscaled. */
    token: number[];
    scale: number;
    /** The sinusoid row at the token's position. */
    position: number[];
    /** token · scale + position */
    input: number[];
  };
  layers: TraceLayer[];
  /** Target side only: the next-token prediction after the last layer. */
  logits?: TraceLogits;
}

/** The classic teaching sentence of the palette's "Walk through an example". */
export const WALKTHROUGH_EXAMPLE = "Let's go.";
