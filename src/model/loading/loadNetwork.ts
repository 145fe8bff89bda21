/** Reads the network part of a Marian folder (config, generation settings, weights) without the tokenizer. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseGenerationSettings, parseMarianConfig, type GenerationSettings, type MarianConfig } from './config';
import { ModelFileError } from './errors';
import { MarianModel } from '../marian';
import { parsePytorchCheckpoint } from './pytorch/checkpoint';
import { parseSafetensors, safetensorsDataStart, type RawTensor } from './safetensors';
import { buildMarianWeights } from './weights';

/** Weight files a folder may hold, in order of preference. */
export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

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
  const { file: weightsFile, tensors } = readWeights(dir);
  const weights = buildMarianWeights(weightsFile, tensors, config);
  return { dir, config, generation, model: new MarianModel(config, weights) };
}

/**
 * The folder's tensors: `model.safetensors` when present, else `pytorch_model.bin`. The file is read once into a
 * buffer laid out so float32 data is 4-byte aligned, and float32 tensors stay views into it (no second copy).
 */
export function readWeights(dir: string): { file: string; tensors: Map<string, RawTensor> } {
  const safetensors = path.join(dir, 'model.safetensors');
  if (fs.existsSync(safetensors)) {
    // Shift the whole file so the data section (after the JSON header) starts on an 8-byte boundary.
    const head = readFileAligned(safetensors, 0, 8);
    const start = safetensorsDataStart(head);
    const shift = start === undefined ? 0 : (8 - (start % 8)) % 8;
    return { file: safetensors, tensors: parseSafetensors(safetensors, readFileAligned(safetensors, shift)) };
  }
  const bin = path.join(dir, 'pytorch_model.bin');
  if (fs.existsSync(bin)) {
    // PyTorch aligns every storage record to 64 bytes within the archive: read it at offset 0.
    return { file: bin, tensors: parsePytorchCheckpoint(bin, readFileAligned(bin, 0)) };
  }
  throw new ModelFileError(safetensors, 'file not found, and there is no pytorch_model.bin either: the folder needs one of the two weight files');
}

/**
 * Reads a file (or its first `limit` bytes) into a fresh buffer whose byte 0 sits `shift` bytes past an 8-byte
 * boundary of its ArrayBuffer, so data at file offset o is aligned when (o + shift) is.
 */
function readFileAligned(file: string, shift: number, limit = Infinity): Uint8Array {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = Math.min(fs.fstatSync(fd).size, limit);
    // shared memory, so matmul helper threads can read the weights without a copy (see parallel/matmulPool.ts)
    const out = new Uint8Array(new SharedArrayBuffer(size + shift), shift, size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, out, done, Math.min(size - done, 1 << 30), done);
      if (n === 0) throw Object.assign(new Error('file shrank while reading'), { code: 'EIO' });
      done += n;
    }
    return out;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFileError(file, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? (e as Error).message})`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

