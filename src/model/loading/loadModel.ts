/** Loads a Hugging Face Marian folder: config, generation settings, weights and tokenizer, with errors that name the file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GenerationSettings, MarianConfig } from './config';
import { ModelFileError } from './errors';
import type { ModelSummary } from '../../shared/explanation';
import type { MarianModel } from '../marian';
import { loadMarianNetwork } from './loadNetwork';
import { MarianTokenizer } from '../tokenizer/marianTokenizer';

export interface LoadedModel {
  folder: string;
  config: MarianConfig;
  generation: GenerationSettings;
  model: MarianModel;
  tokenizer: MarianTokenizer;
  summary: ModelSummary;
  /** Longest source (tokens, eos included) the position table allows. */
  maxSourceTokens: number;
}

export function loadModelFolder(folder: string, opts: { name?: string } = {}): LoadedModel {
  const { dir, config, generation, model } = loadMarianNetwork(folder);
  const tokenizer = MarianTokenizer.fromFolder(dir);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new ModelFileError(path.join(dir, 'vocab.json'), `has ${tokenizer.vocabSize} entries but config.json's vocab_size is ${config.vocabSize}`);
  }
  const langs = readLanguages(dir);
  const summary: ModelSummary = {
    name: opts.name ?? path.basename(dir),
    dModel: config.dModel,
    encoderLayers: config.encoderLayers,
    decoderLayers: config.decoderLayers,
    encoderHeads: config.encoderHeads,
    decoderHeads: config.decoderHeads,
    vocabSize: config.vocabSize,
    activation: config.activation,
    ...langs,
    parameters: countParameters(model),
    languageCodes: [...tokenizer.languageCodes],
  };
  return { folder: dir, config, generation, model, tokenizer, summary, maxSourceTokens: config.maxPositions };
}

function countParameters(model: MarianModel): number {
  const seen = new Set<Float32Array>();
  const visit = (v: unknown): void => {
    if (v instanceof Float32Array) seen.add(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) visit(x);
  };
  visit(model.weights);
  let n = 0;
  for (const a of seen) n += a.length;
  return n;
}

function readLanguages(dir: string): { sourceLang?: string; targetLang?: string } {
  try {
    const t = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    return {
      sourceLang: typeof t.source_lang === 'string' ? t.source_lang : undefined,
      targetLang: typeof t.target_lang === 'string' ? t.target_lang : undefined,
    };
  } catch {
    return {}; // optional file: languages are informational only
  }
}
