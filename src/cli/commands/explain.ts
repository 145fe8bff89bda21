/** `attention-lens explain --json`: the full inspection data for one sentence. */
import { InvalidArgumentError, type Command } from 'commander';
import { explain } from '../../model';
import { explanationToJson } from '../../shared/attention';
import { KERNEL_HELP, MODEL_HELP, PRECISION_HELP, THREADS_HELP, kernelSetting, loadCliModel, precisionSetting, positiveInt, readStdin, useThreads } from '../common';
import type { KernelSetting, Precision } from '../../model/kernels/kernelChoice';

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('print the full inspection data (tokens, attentions, positional encodings, step probabilities) for one sentence')
    .argument('[sentence...]', 'the sentence (default: stdin)')
    .option('--json', 'write JSON (the only format)', true)
    .option('--model <dir>', MODEL_HELP)
    .option('--beams <n>', 'beam size (1 = greedy)', positiveInt(16), 1)
    .option('--top-k <k>', 'candidates recorded per decoding step', positiveInt(100), 5)
    // the extension's default (attentionLens.maxTokens): explanations grow with the square of the length
    .option('--max-tokens <n>', 'source token budget; longer input is truncated (default 128, as in the extension)', positiveInt(100000), 128)
    .option('--threads <n>', THREADS_HELP, positiveInt(16))
    .option('--kernel <path>', KERNEL_HELP, kernelSetting, 'auto')
    .option('--precision <sums>', PRECISION_HELP, precisionSetting)
    .option('--target <text>', 'score this translation (teacher forcing) instead of generating one: "forced": true, each step gives the probability and rank of the given token')
    .action(async (words: string[], o: { kernel: KernelSetting; precision?: Precision; model?: string; beams: number; topK: number; maxTokens: number; threads?: number; target?: string }) => {
      const text = words.length ? words.join(' ') : (await readStdin()).trim();
      if (!text) throw new InvalidArgumentError('nothing to explain: give a sentence or pipe one on stdin');
      const lm = loadCliModel(o.model, o.kernel, o.precision);
      const pool = useThreads(lm, o.threads);
      const e = explain(lm, text, { numBeams: o.beams, topK: o.topK, maxSourceTokens: o.maxTokens, target: o.target });
      await pool?.close();
      process.stdout.write(JSON.stringify(explanationToJson(e)) + '\n'); // typed arrays as number arrays (the JSON edge)
    });
}
