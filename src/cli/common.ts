/** What every `attention-lens` subcommand shares: argument parsers, model loading, threads, stdin. */
import { InvalidArgumentError } from 'commander';
import { findBundledModel } from '../model/loading/bundledModel';
import { loadModelFolder, type LoadedModel } from '../model';
import { MatmulPool, resolveThreads } from '../model/kernels/parallel/matmulPool';

export function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    return n;
  };
}

/** The folder given with --model, or the bundled English→Spanish checkpoint. */
export function loadCliModel(dir: string | undefined): LoadedModel {
  return loadModelFolder(dir ?? findBundledModel(), { name: dir ? undefined : 'bundled' });
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
export const THREADS_HELP = 'threads for the matrix products (default: every core, at most 4; never more than the cores; results are identical for any value)';

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
