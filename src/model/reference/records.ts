/**
 * What each unit of the reference forward pass computed, named as the paper names it. Every tensor is a fresh
 * row-major array with one row per token ([rows, width]); nothing here is reused or overwritten later, so a
 * record can be read after the pass (the trace shows it, training differentiates through it).
 */

/** The input layer: token embedding × scale + sinusoidal position, for every token. */
export interface EmbeddingRecord {
  ids: number[];
  /** Position of row 0 (0 for a whole sentence). */
  startPosition: number;
  /** [rows, dModel] embedding rows as stored (unscaled). */
  token: Float32Array;
  /** √dModel when the model scales its embeddings, else 1. */
  scale: number;
  /** [rows, dModel] sinusoid rows at the tokens' positions. */
  position: Float32Array;
  /** [rows, dModel] token · scale + position: the first layer's input. */
  input: Float32Array;
}

/** One head's scaled dot-product attention, for every query row. */
export interface HeadRecord {
  /** [queries, dHead] this head's columns of x·W_Qᵀ + b_Q. */
  q: Float32Array;
  /** [keys, dHead] this head's columns of the keys. */
  k: Float32Array;
  /** [keys, dHead] this head's columns of the values. */
  v: Float32Array;
  /** [queries, keys] q·k, the exact dot products (summed in doubles). */
  scores: Float64Array;
  /** [queries, keys] scores ÷ √dHead rounded to float32; −∞ where the mask hides a key. */
  scaled: Float32Array;
  /** [queries, keys] softmax of each scaled row: the attention weights (0 for hidden keys). */
  weights: Float32Array;
  /** [queries, dHead] Σⱼ weightⱼ·vⱼ. */
  context: Float32Array;
}

/** LayerNorm of each row: (x − mean)/√(variance + eps) · γ + β. */
export interface NormRecord {
  /** [rows] mean of each row. */
  mean: Float64Array;
  /** [rows] population variance of each row (÷ d). */
  variance: Float64Array;
  /** [rows, dModel] (x − mean)/√(variance + eps), before γ and β (doubles, as computed). */
  normalized: Float64Array;
  /** [rows, dModel] normalized · γ + β. */
  output: Float32Array;
}

/** A residual connection and its LayerNorm (post-LN: the norm follows the addition). */
export interface AddAndNormRecord {
  /** [rows, dModel] sublayer input + sublayer output. */
  residual: Float32Array;
  norm: NormRecord;
}

export type AttentionKindName = 'encoder' | 'decoder' | 'cross';

/** A multi-head attention sublayer with its residual and LayerNorm. */
export interface AttentionRecord extends AddAndNormRecord {
  /** encoder: the encoder's self-attention; decoder: masked self-attention; cross: encoder–decoder attention. */
  kind: AttentionKindName;
  /** [queries, dModel] the sublayer's input (the queries' rows). */
  input: Float32Array;
  /** [keys, dModel] rows the keys and values come from (the input itself, or the encoder's output for cross). */
  memory: Float32Array;
  heads: HeadRecord[];
  /** [queries, dModel] the heads' contexts side by side (head h in columns h·dHead …). */
  concatenated: Float32Array;
  /** [queries, dModel] concatenated · W_Oᵀ + b_O. */
  output: Float32Array;
}

/** The position-wise feed-forward sublayer with its residual and LayerNorm. */
export interface FeedForwardRecord extends AddAndNormRecord {
  /** [rows, dModel] */
  input: Float32Array;
  /** [rows, ffn] input · W₁ᵀ + b₁, before the activation. */
  preActivation: Float32Array;
  /** [rows, ffn] after the activation. */
  hidden: Float32Array;
  /** [rows, dModel] hidden · W₂ᵀ + b₂. */
  output: Float32Array;
}

/** One encoder or decoder layer. */
export interface LayerRecord {
  /** encoder: [self]; decoder: [masked self, cross]. */
  attention: AttentionRecord[];
  feedForward: FeedForwardRecord;
  /** [rows, dModel] the layer's output (= feedForward.norm.output), the next layer's input. */
  output: Float32Array;
}

/** A whole stack (encoder, or decoder over a prefix). */
export interface StackRecord {
  embedding: EmbeddingRecord;
  layers: LayerRecord[];
  /** [rows, dModel] the last layer's output. */
  output: Float32Array;
}

/** The output layer for some decoder rows. */
export interface LogitsRecord {
  /** Which decoder rows (positions) these are. */
  rows: number[];
  /** [rows.length, vocab] h · Eᵀ + final_logits_bias. */
  logits: Float32Array;
}
