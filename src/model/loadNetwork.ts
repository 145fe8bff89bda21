/** Reads the network part of a Marian folder (config, generation settings, weights) without the tokenizer. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseGenerationSettings, parseMarianConfig, type GenerationSettings, type MarianConfig } from './config';
import { ModelFileError } from './errors';
import { MarianModel } from './marian';
import { parseSafetensors } from './safetensors';
import { buildMarianWeights } from './weights';

export function readModelFile(folder: string, name: string): Buffer {
  const file = path.join(folder, name);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFileError(file, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? (e as Error).message})`);
  }
}

/** The network alone (config, generation settings, weights): what tests and benchmarks need without a tokenizer. */
export function loadMarianNetwork(folder: string): { dir: string; config: MarianConfig; generation: GenerationSettings; model: MarianModel } {
  const dir = path.resolve(folder);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelFileError(dir, 'is not a folder');
  const configFile = path.join(dir, 'config.json');
  const config = parseMarianConfig(configFile, readModelFile(dir, 'config.json').toString('utf8'));
  const genFile = path.join(dir, 'generation_config.json');
  const generation = fs.existsSync(genFile)
    ? parseGenerationSettings({ file: genFile, text: readModelFile(dir, 'generation_config.json').toString('utf8') }, config)
    : parseGenerationSettings({ file: configFile, text: readModelFile(dir, 'config.json').toString('utf8') }, config);
  const weightsFile = path.join(dir, 'model.safetensors');
  const tensors = parseSafetensors(weightsFile, readModelFile(dir, 'model.safetensors'));
  const weights = buildMarianWeights(weightsFile, tensors, config);
  return { dir, config, generation, model: new MarianModel(config, weights) };
}

