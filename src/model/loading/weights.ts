/** Maps Hugging Face Marian tensor names to the structured weights the forward pass uses, checking every shape. */
import type { MarianConfig } from './config';
import { ModelFileError } from './errors';
import { toFloat32, type RawTensor } from './safetensors';

export interface Linear {
  /** Row-major [out, in] (PyTorch layout). */
  weight: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}
export interface LayerNormWeights {
  gamma: Float32Array;
  beta: Float32Array;
}
export interface AttentionWeights {
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
}
export interface EncoderLayerWeights {
  selfAttn: AttentionWeights;
  selfAttnNorm: LayerNormWeights;
  fc1: Linear;
  fc2: Linear;
  finalNorm: LayerNormWeights;
}
export interface DecoderLayerWeights extends EncoderLayerWeights {
  encoderAttn: AttentionWeights;
  encoderAttnNorm: LayerNormWeights;
}
export interface MarianWeights {
  /** [vocab, dModel] token embeddings shared by encoder and decoder. */
  embeddings: Float32Array;
  /** [vocab, dModel] output projection (the embeddings when tied). */
  lmHead: Float32Array;
  /** [vocab] added to the logits. */
  finalLogitsBias: Float32Array;
  encoder: EncoderLayerWeights[];
  decoder: DecoderLayerWeights[];
}

/**
 * Builds the forward pass's weights from the tensors of `model.safetensors` or `pytorch_model.bin`. Published
 * checkpoints differ in prefix ("model." or none) and in which tied copies they store (`model.shared.weight`,
 * `model.{en,de}coder.embed_tokens.weight`, `lm_head.weight`); `embed_positions` tables are ignored (the sinusoids
 * are computed) and a missing `final_logits_bias` is zeros, as transformers initialises it.
 */
export function buildMarianWeights(
  file: string, tensors: Map<string, RawTensor>, cfg: MarianConfig,
  alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(new SharedArrayBuffer(n)),
): MarianWeights {
  const find = (...names: string[]): RawTensor | undefined => {
    for (const n of names) {
      const t = tensors.get(n) ?? tensors.get(`model.${n}`);
      if (t) return t;
    }
    return undefined;
  };
  const take = (shape: number[], ...names: string[]): Float32Array => {
    const t = find(...names);
    if (!t) throw new ModelFileError(file, `missing tensor "${names[0]}"`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(file, `tensor "${names[0]}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return widen(t);
  };
  // Tied copies often share one storage: widen (or view) each distinct byte range once.
  const widened = new Map<ArrayBufferLike, Map<string, Float32Array>>();
  const widen = (t: RawTensor): Float32Array => {
    let perBuffer = widened.get(t.bytes.buffer);
    if (!perBuffer) widened.set(t.bytes.buffer, (perBuffer = new Map()));
    const key = `${t.dtype}:${t.bytes.byteOffset}:${t.bytes.byteLength}`;
    let w = perBuffer.get(key);
    if (!w) perBuffer.set(key, (w = toFloat32(t, alloc)));
    return w;
  };
  const d = cfg.dModel;
  const V = cfg.vocabSize;
  const linear = (name: string, outDim: number, inDim: number): Linear => ({
    weight: take([outDim, inDim], `${name}.weight`),
    bias: take([outDim], `${name}.bias`),
    inDim,
    outDim,
  });
  const norm = (name: string): LayerNormWeights => ({ gamma: take([d], `${name}.weight`), beta: take([d], `${name}.bias`) });
  const attention = (name: string): AttentionWeights => ({
    q: linear(`${name}.q_proj`, d, d),
    k: linear(`${name}.k_proj`, d, d),
    v: linear(`${name}.v_proj`, d, d),
    out: linear(`${name}.out_proj`, d, d),
  });
  const embeddings = take([V, d], 'shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight');
  // transformers ties lm_head to the input embeddings unless config.json says "tie_word_embeddings": false, so a
  // stored lm_head.weight only counts when untied (tied, tie_weights() replaces it); untied, it is required.
  let lmHead = embeddings;
  if (cfg.tieWordEmbeddings === false) {
    if (!find('lm_head.weight')) throw new ModelFileError(file, 'missing tensor "lm_head.weight" (config.json sets "tie_word_embeddings": false)');
    lmHead = take([V, d], 'lm_head.weight');
  }
  const bias = find('final_logits_bias');
  const zeros = bias ? undefined : alloc(V * 4);
  const finalLogitsBias = zeros ? new Float32Array(zeros.buffer, zeros.byteOffset, V) : take([1, V], 'final_logits_bias');
  const encoder: EncoderLayerWeights[] = [];
  for (let i = 0; i < cfg.encoderLayers; i++) {
    const p = `encoder.layers.${i}`;
    encoder.push({
      selfAttn: attention(`${p}.self_attn`),
      selfAttnNorm: norm(`${p}.self_attn_layer_norm`),
      fc1: linear(`${p}.fc1`, cfg.encoderFfn, d),
      fc2: linear(`${p}.fc2`, d, cfg.encoderFfn),
      finalNorm: norm(`${p}.final_layer_norm`),
    });
  }
  const decoder: DecoderLayerWeights[] = [];
  for (let i = 0; i < cfg.decoderLayers; i++) {
    const p = `decoder.layers.${i}`;
    decoder.push({
      selfAttn: attention(`${p}.self_attn`),
      selfAttnNorm: norm(`${p}.self_attn_layer_norm`),
      encoderAttn: attention(`${p}.encoder_attn`),
      encoderAttnNorm: norm(`${p}.encoder_attn_layer_norm`),
      fc1: linear(`${p}.fc1`, cfg.decoderFfn, d),
      fc2: linear(`${p}.fc2`, d, cfg.decoderFfn),
      finalNorm: norm(`${p}.final_layer_norm`),
    });
  }
  return { embeddings, lmHead, finalLogitsBias, encoder, decoder };
}
