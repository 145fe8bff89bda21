/** Reads the network part of a Marian folder (config, generation settings, weights) without the tokenizer. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseGenerationSettings, parseMarianConfig, weightFileCap, type GenerationSettings, type MarianConfig } from './config';
import { ModelFileError } from './errors';
import { FILE_CAPS, entryExists, readRange, readSmallModelFile, withModelFile } from './files';
import { MarianModel } from '../marian';
import { parsePytorchCheckpoint } from './pytorch/checkpoint';
import { parseSafetensorsHeader, safetensorsHeaderLength, type RawTensor } from './safetensors';
import { buildMarianWeights, type MarianWeights } from './weights';
import { defaultKernelSetting, planKernel, sharedBytes, simdKernelFor, tooLarge, type KernelPath, type KernelSetting, type Precision, type WeightAllocator } from '../kernels/kernelChoice';
import { WasmMemoryTooSmall } from '../kernels/wasm/memory';
import { registerWeightsFile } from '../generation/finite';

/** Weight files a folder may hold, in order of preference. */
export const WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

/** A small JSON file of the folder (config.json, generation_config.json), checked as files.ts describes. */
export function readModelFile(folder: string, name: string): Buffer {
  return readSmallModelFile(path.join(folder, name), FILE_CAPS.json, 'configuration file');
}

/**
 * The network alone (config, generation settings, weights): what tests and benchmarks need without a tokenizer.
 * `kernel` (default auto) picks the matrix-product kernels and where the weights are read to, `precision` (default
 * float32, or $ATTENTION_LENS_PRECISION) how the SIMD kernels sum (kernels/kernelChoice.ts); when simd cannot run, the
 * one-line note goes to `onNote` (default: console.warn) and to the result.
 */
export function loadMarianNetwork(folder: string, opts: { kernel?: KernelSetting; precision?: Precision; onNote?: (line: string) => void } = {}): { dir: string; config: MarianConfig; generation: GenerationSettings; model: MarianModel; kernel: { path: KernelPath; precision?: Precision; note?: string } } {
  const dir = path.resolve(folder);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelFileError(dir, 'is not a folder');
  const configFile = path.join(dir, 'config.json');
  const configText = readModelFile(dir, 'config.json').toString('utf8');
  const config = parseMarianConfig(configFile, configText);
  const genFile = path.join(dir, 'generation_config.json');
  const generation = entryExists(genFile)
    ? parseGenerationSettings({ file: genFile, text: readModelFile(dir, 'generation_config.json').toString('utf8') }, config)
    : parseGenerationSettings({ file: configFile, text: configText }, config);
  const setting = opts.kernel ?? defaultKernelSetting();
  let plan = planKernel(setting, weightFileBytes(dir), opts.precision);
  let read: { file: string; weights: MarianWeights };
  try {
    read = readMarianWeights(dir, config, plan.alloc);
  } catch (e) {
    if (!(e instanceof WasmMemoryTooSmall)) throw e;
    plan = tooLarge(setting, e); // grew past WebAssembly's memory while reading: read again into ordinary memory
    read = readMarianWeights(dir, config, plan.alloc);
  }
  const model = new MarianModel(config, read.weights);
  model.useKernel(simdKernelFor(plan));
  registerWeightsFile(model, read.file);
  if (plan.note) (opts.onNote ?? ((line) => console.warn(`attention-lens: ${line}`)))(plan.note);
  return { dir, config, generation, model, kernel: { path: plan.path, precision: plan.precision, note: plan.note } };
}

function readMarianWeights(dir: string, config: MarianConfig, alloc: WeightAllocator): { file: string; weights: MarianWeights } {
  const { file, tensors } = readWeights(dir, config, alloc);
  return { file, weights: buildMarianWeights(file, tensors, config, alloc) };
}

/** Size of the weight file the folder will be read from (0 when there is none: reading then reports it). */
function weightFileBytes(dir: string): number {
  for (const name of WEIGHT_FILES) {
    try {
      return fs.statSync(path.join(dir, name)).size;
    } catch {
      // try the next one
    }
  }
  return 0;
}

/**
 * The folder's tensors: `model.safetensors` when present, else `pytorch_model.bin`. With a config, a file larger
 * than such a model can need is refused before it is read.
 *
 * model.safetensors: only the 8-byte length and the header are read up front; each tensor's bytes are read (into
 * shared memory, 8-byte aligned, so float32 data is viewed in place) when first used, so tensors the model does not
 * use, or a data section that is mostly holes, cost nothing. pytorch_model.bin is read once into one buffer laid
 * out so that float32 data is aligned, and its tensors stay views into it.
 */
export function readWeights(dir: string, config?: MarianConfig, alloc: WeightAllocator = sharedBytes): { file: string; tensors: Map<string, RawTensor> } {
  const safetensors = path.join(dir, 'model.safetensors');
  if (entryExists(safetensors)) return { file: safetensors, tensors: readSafetensorsLazily(safetensors, alloc) };
  const bin = path.join(dir, 'pytorch_model.bin');
  if (entryExists(bin)) {
    const cap = config ? weightFileCap(config) : Number.MAX_SAFE_INTEGER;
    // PyTorch aligns every storage record to 64 bytes within the archive: read it at offset 0.
    const buf = withModelFile(bin, cap, 'weights file of the model config.json describes', (fd, size) => {
      // shared memory, so matmul helper threads can read the weights without a copy (see parallel/matmulPool.ts)
      const out = alloc(size);
      readRange(bin, fd, out, 0, size, 0);
      return out;
    });
    return { file: bin, tensors: parsePytorchCheckpoint(bin, buf) };
  }
  throw new ModelFileError(safetensors, 'file not found, and there is no pytorch_model.bin either: the folder needs one of the two weight files');
}

/** Header now, tensor bytes on first use (see readWeights). The file must not change in between. */
function readSafetensorsLazily(file: string, alloc: WeightAllocator): Map<string, RawTensor> {
  const { spans, dataStart, identity } = withModelFile(file, Number.MAX_SAFE_INTEGER, undefined, (fd, size) => {
    const prefix = new Uint8Array(8);
    if (size >= 8) readRange(file, fd, prefix, 0, 8, 0);
    const headerLen = safetensorsHeaderLength(file, prefix, size);
    const header = new Uint8Array(headerLen);
    readRange(file, fd, header, 0, headerLen, 8);
    const st = fs.fstatSync(fd);
    return { spans: parseSafetensorsHeader(file, header, size - 8 - headerLen), dataStart: 8 + headerLen, identity: `${st.ino}:${st.size}:${st.mtimeMs}` };
  });
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of spans) {
    let bytes: Uint8Array | undefined;
    const tensor = { dtype: t.dtype, shape: t.shape } as RawTensor;
    Object.defineProperty(tensor, 'bytes', {
      enumerable: true,
      get: (): Uint8Array => {
        if (bytes) return bytes;
        return (bytes = withModelFile(file, Number.MAX_SAFE_INTEGER, undefined, (fd) => {
          const st = fs.fstatSync(fd);
          if (`${st.ino}:${st.size}:${st.mtimeMs}` !== identity) throw new ModelFileError(file, 'changed while the model was loading');
          // float32 straight into the kernels' memory; F16/BF16 bytes only pass through (widened there by toFloat32)
          const out = t.dtype === 'F32' ? alloc(t.end - t.begin) : new Uint8Array(t.end - t.begin);
          readRange(file, fd, out, 0, t.end - t.begin, dataStart + t.begin);
          return out;
        }));
      },
    });
    tensors.set(name, tensor);
  }
  return tensors;
}
