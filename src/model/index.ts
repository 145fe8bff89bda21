/**
 * Public surface of the model core. Pure Node: nothing here imports `vscode`. The folders are its table of contents:
 * reference/ (the forward pass as plain loops: read it first), marian.ts (the model, composed from network/: embed,
 * attention, layers, ops, positions), kernels/ (speed only, same results), loading/, tokenizer/, generation/, explain/.
 */
export type { Explanation, AttentionKind, DecodingStep, ModelSummary } from '../shared/explanation';
export { ModelFileError } from './loading/errors';
export { CancelledError } from './cancel';
export { loadModelFolder, type LoadedModel } from './loading/loadModel';
export { explain, translate, type ExplainOptions, type TranslateOptions } from './explain/explain';
export { trace, traceIds, TraceInputError, type TraceOptions } from './explain/trace';
export type { Trace, TraceSide } from '../shared/trace';
