/** `attention-lens`: the model core from the command line (scripts, benchmarks, conformance). */
import { Command, InvalidArgumentError } from 'commander';
import * as readline from 'node:readline';
import { findBundledModel } from '../model/loading/bundledModel';
import { ModelFileError, explain, loadModelFolder, translate, type LoadedModel } from '../model';
import { MatmulPool, resolveThreads } from '../model/kernels/parallel/matmulPool';

function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    return n;
  };
}

/** Splits the model's matrix products over `threads` threads (bit-identical results); close the pool when done. */
function useThreads(lm: LoadedModel, threads: number | undefined): MatmulPool | undefined {
  const n = resolveThreads(threads);
  if (n < 2) return undefined;
  const pool = new MatmulPool({ threads: n });
  lm.model.useMatmulPool(pool);
  return pool;
}

const THREADS_HELP = 'threads for the matrix products (default: every core, at most 4; never more than the cores; results are identical for any value)';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// a closed pipe (`attention-lens explain … | head`) is a normal way for a reader to stop
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command()
  .name('attention-lens')
  .description('Pure-TypeScript Marian translation with attention inspection.')
  .showHelpAfterError();

program
  .command('translate')
  .description('translate one sentence per line from stdin to stdout')
  .option('--model <dir>', 'Hugging Face Marian folder (default: the bundled English→Spanish checkpoint)')
  .option('--beams <n>', 'beam size (1 = greedy)', positiveInt(16), 1)
  .option('--max-new-tokens <n>', 'generated-token limit (default: the model\'s max_length)', positiveInt(4096))
  .option('--threads <n>', THREADS_HELP, positiveInt(16))
  .action(async (o: { model?: string; beams: number; maxNewTokens?: number; threads?: number }) => {
    const lm = loadModelFolder(o.model ?? findBundledModel(), { name: o.model ? undefined : 'bundled' });
    const pool = useThreads(lm, o.threads);
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
      const out = line.trim() === '' ? '' : translate(lm, line, { numBeams: o.beams, maxNewTokens: o.maxNewTokens }).text;
      process.stdout.write(out + '\n');
    }
    await pool?.close();
  });

program
  .command('explain')
  .description('print the full inspection data (tokens, attentions, positional encodings, step probabilities) for one sentence')
  .argument('[sentence...]', 'the sentence (default: stdin)')
  .option('--json', 'write JSON (the only format)', true)
  .option('--model <dir>', 'Hugging Face Marian folder (default: the bundled checkpoint)')
  .option('--beams <n>', 'beam size (1 = greedy)', positiveInt(16), 1)
  .option('--top-k <k>', 'candidates recorded per decoding step', positiveInt(100), 5)
  .option('--max-tokens <n>', 'source token budget; longer input is truncated', positiveInt(100000))
  .option('--threads <n>', THREADS_HELP, positiveInt(16))
  .action(async (words: string[], o: { model?: string; beams: number; topK: number; maxTokens?: number; threads?: number }) => {
    const text = words.length ? words.join(' ') : (await readStdin()).trim();
    if (!text) throw new InvalidArgumentError('nothing to explain: give a sentence or pipe one on stdin');
    const lm = loadModelFolder(o.model ?? findBundledModel(), { name: o.model ? undefined : 'bundled' });
    const pool = useThreads(lm, o.threads);
    const e = explain(lm, text, { numBeams: o.beams, topK: o.topK, maxSourceTokens: o.maxTokens });
    await pool?.close();
    process.stdout.write(JSON.stringify(e) + '\n');
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  const msg = e instanceof ModelFileError ? `model file problem: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`attention-lens: ${msg}\n`);
  process.exit(1);
});
