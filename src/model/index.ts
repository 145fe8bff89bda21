/** Public surface of the model core. Pure Node: nothing here imports `vscode`. */
export type { Explanation, AttentionKind, DecodingStep, ModelSummary } from '../shared/explanation';
export { ModelFileError } from './loading/errors';
export { CancelledError } from './cancel';
export { loadModelFolder, type LoadedModel } from './loading/loadModel';
export { explain, translate, type ExplainOptions, type TranslateOptions } from './explain/explain';
