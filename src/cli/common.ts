/** What every `attention-lens` subcommand shares: argument parsers, model loading, threads, stdin. */
import { InvalidArgumentError } from 'commander';
import { findBundledModel } from '../model/loading/bundledModel';
import { loadModelFolder, type LoadedModel } from '../model';
import { MatmulPool, resolveThreads } from '../model/kernels/parallel/matmulPool';
import { DEFAULT_PRECISION, KERNEL_SETTINGS, PRECISIONS, isKernelSetting, isPrecision, type KernelSetting, type Precision } from '../model/kernels/kernelChoice';

export function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    return n;
  };
}

/** The folder given with --model, or the bundled English→Spanish checkpoint; `kernel`, `precision` from --kernel, --precision. */
export function loadCliModel(dir: string | undefined, kernel?: KernelSetting, precision?: Precision): LoadedModel {
  return loadModelFolder(dir ?? findBundledModel(), { name: dir ? undefined : 'bundled', kernel, precision });
}

/** --precision's parser. */
export function precisionSetting(value: string): Precision {
  if (!isPrecision(value)) throw new InvalidArgumentError(`expected one of ${PRECISIONS.join(', ')}`);
  return value;
}

/** --kernel's parser. */
export function kernelSetting(value: string): KernelSetting {
  if (!isKernelSetting(value)) throw new InvalidArgumentError(`expected one of ${KERNEL_SETTINGS.join(', ')}`);
  return value;
}

/** Splits the model's matrix products over `threads` threads (bit-identical results); close the pool when done. */
export function useThreads(lm: LoadedModel, threads: number | undefined): MatmulPool | undefined {
  const n = resolveThreads(threads);
  if (n < 2) return undefined;
  const pool = new MatmulPool({ threads: n });
  lm.model.useMatmulPool(pool);
  return pool;
}

export const MODEL_HELP = 'Hugging Face Marian folder (default: the bundled English→Spanish checkpoint)';
export const KERNEL_HELP = 'matrix-product kernels: auto (WebAssembly SIMD where the runtime has it), simd or js; with --precision exact every path gives identical numbers';
export const PRECISION_HELP = `how the SIMD kernels sum: float32 (lanes across k, as PyTorch sums; faster) or exact (double sums, bit-identical to the JavaScript kernels); default: $ATTENTION_LENS_PRECISION, else ${DEFAULT_PRECISION}`;
export const THREADS_HELP = 'threads for the matrix products (default: every core, at most 4; never more than the cores; results are identical for any value)';

/** Longest input line (translate) and whole input (explain) read from stdin; longer input is refused with a message. */
export const MAX_LINE_BYTES = 1024 * 1024;
export const MAX_STDIN_BYTES = 1024 * 1024;

/** Input refused for its size: reported as one line, like every CLI error. */
export class InputTooLongError extends Error {}

/** All of stdin as text, at most MAX_STDIN_BYTES (read stops as soon as the input is known to be longer). */
export async function readStdin(input: AsyncIterable<Buffer | string> = process.stdin, cap = MAX_STDIN_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of input) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    total += b.length;
    if (total > cap) throw new InputTooLongError(`the input is longer than ${cap} bytes; give one sentence or a short passage`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The lines of `input`, each without its end: only LF and CRLF end a line (a lone CR is part of the line; Node's
 * readline also breaks on it, which turned three input lines into four output lines). A final line without LF
 * counts. A line longer than `cap` bytes is refused as soon as it gets there, so memory stays bounded.
 */
export async function* readLines(input: AsyncIterable<Buffer | string> = process.stdin, cap = MAX_LINE_BYTES): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let length = 0;
  let lineNo = 1;
  const take = (b: Buffer): void => {
    length += b.length;
    if (length > cap + 1) throw new InputTooLongError(`input line ${lineNo} is longer than ${cap} bytes; split it into shorter lines`);
    parts.push(b);
  };
  const finish = (): string => {
    let line = Buffer.concat(parts);
    parts = [];
    length = 0;
    lineNo++;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1); // CRLF
    if (line.length > cap) throw new InputTooLongError(`input line ${lineNo - 1} is longer than ${cap} bytes; split it into shorter lines`);
    return line.toString('utf8');
  };
  for await (const c of input) {
    let b = typeof c === 'string' ? Buffer.from(c) : c;
    for (let nl = b.indexOf(0x0a); nl >= 0; nl = b.indexOf(0x0a)) {
      take(b.subarray(0, nl));
      yield finish();
      b = b.subarray(nl + 1);
    }
    if (b.length) take(b);
  }
  if (length > 0) yield finish();
}

/** Writes to stdout and waits until it is handed to the system (so a slow reader holds the producer back). */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (e) => (e ? reject(e) : resolve()));
  });
}

/** One line for an output error: a closed pipe, a full disk, an I/O error. */
export function outputErrorLine(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EPIPE':
      return 'the output was closed before everything was written (EPIPE)';
    case 'ENOSPC':
      return 'cannot write the output: no space left on the device (ENOSPC)';
    case 'EDQUOT':
      return 'cannot write the output: disk quota exceeded (EDQUOT)';
    case 'EIO':
      return 'cannot write the output: input/output error (EIO)';
    default:
      return `cannot write the output (${e.code ?? e.message})`;
  }
}
