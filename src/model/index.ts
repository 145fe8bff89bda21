/** Public surface of the model core. Pure Node: nothing here imports `vscode`. */
export type { Explanation, AttentionKind, DecodingStep, ModelSummary } from './explanation';
export { ModelFileError } from './errors';
export { CancelledError } from './cancel';
export { loadModelFolder, type LoadedModel } from './loadModel';
export { explain, translate, type ExplainOptions, type TranslateOptions } from './explain';
