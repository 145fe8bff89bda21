/**
 * The reference forward pass: Marian as plain loops, one unit per concept, every intermediate kept. Start here;
 * src/model/marian.ts computes the same numbers (bit-identical) with workspaces, caches and fast kernels.
 */
export * from './records';
export {
  activation, addAndNorm, crossAttention, decoderLayer, embed, encoderLayer, feedForward, layerNorm, linear, logits,
  scaledDotProductAttention, selfAttention, type AttentionOptions, type MatrixProduct,
} from './layers';
export { decoderStack, encoderStack, type StackOptions } from './forward';
